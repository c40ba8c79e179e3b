package dev.spillway.relay.ingress;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.route.Intake;

/**
 * What every ingress listener's pipeline shares: where messages go, the limits, the in-flight
 * bound, the listener's metrics and its connection limit. One per listener.
 *
 * <p>Immutable; the parts are thread-safe.
 */
public record ListenerContext(Intake router, Limits limits, InFlight inFlight, IngressMetrics metrics,
        ConnectionLimiter connections) {}
