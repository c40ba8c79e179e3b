package dev.spillway.relay.ingress.line;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.ConnectionLimiter;
import dev.spillway.relay.ingress.InFlight;
import dev.spillway.relay.ingress.IngressMetrics;
import dev.spillway.relay.route.Intake;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.Channel;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/** The line-protocol listener's pipeline, assembled in one place. */
public final class LineInitializer extends ChannelInitializer<Channel> {

    private final Intake router;
    private final Limits limits;
    private final InFlight inFlight;
    private final IngressMetrics metrics;
    private final ConnectionLimiter connections;
    private final String key;

    public LineInitializer(Intake router, Limits limits, InFlight inFlight, IngressMetrics metrics,
            ConnectionLimiter connections, String key) {
        this.metrics = metrics;
        this.router = router;
        this.limits = limits;
        this.inFlight = inFlight;
        this.connections = connections;
        this.key = key;
    }

    @Override
    protected void initChannel(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        p.addLast("connections", connections);
        p.addLast("idle", new IdleStateHandler(limits.idleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
        // failFast: a too-long line is reported at once and then skipped up to its newline
        p.addLast("lines", new LineBasedFrameDecoder(limits.maxValueBytes(), true, true));
        p.addLast("handler", new LineHandler(router, inFlight, metrics, key, limits.maxValueBytes()));
    }
}
