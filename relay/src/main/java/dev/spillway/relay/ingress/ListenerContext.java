package dev.spillway.relay.ingress;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.net.ListenerTls;
import dev.spillway.relay.route.Intake;

/**
 * What every ingress listener's pipeline shares: where messages go, the limits, the in-flight
 * bound, the listener's metrics, its connection limit and its TLS (null when plaintext). One per
 * listener.
 *
 * <p>Immutable; the parts are thread-safe.
 */
public record ListenerContext(Intake router, Limits limits, InFlight inFlight, IngressMetrics metrics,
        ConnectionLimiter connections, ListenerTls tls) {

    /** A plaintext listener's. */
    public ListenerContext(Intake router, Limits limits, InFlight inFlight, IngressMetrics metrics,
            ConnectionLimiter connections) {
        this(router, limits, inFlight, metrics, connections, null);
    }
}
