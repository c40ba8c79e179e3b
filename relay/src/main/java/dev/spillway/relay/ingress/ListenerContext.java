package dev.spillway.relay.ingress;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.route.Intake;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * What every ingress listener's pipeline shares: where messages go, the limits, the in-flight
 * bound, the listener's metrics and its connection limit. One per listener.
 *
 * <p>Immutable; the parts are thread-safe.
 */
public record ListenerContext(Intake router, Limits limits, InFlight inFlight, IngressMetrics metrics,
        ConnectionLimiter connections) {

    /** The head of every listener's pipeline: the connection limit, then the idle timeout. */
    public void addHead(ChannelPipeline p) {
        p.addLast("connections", connections);
        p.addLast("idle", new IdleStateHandler(limits.idleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
    }
}
