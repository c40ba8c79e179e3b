package dev.spillway.relay.ingress.http;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.ConnectionLimiter;
import dev.spillway.relay.ingress.InFlight;
import dev.spillway.relay.ingress.IngressMetrics;
import dev.spillway.relay.route.Intake;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP ingest listener's pipeline. {@link OrderedAggregator} gathers each request and its
 * body, sends {@code 100 Continue} when asked, and has a body larger than
 * {@code limits.maxRequestBytes} refused (413) in request order without reading it.
 */
public final class HttpIngestInitializer extends ChannelInitializer<Channel> {

    private final Intake router;
    private final Limits limits;
    private final InFlight inFlight;
    private final IngressMetrics metrics;
    private final ConnectionLimiter connections;
    private final String token;

    public HttpIngestInitializer(Intake router, Limits limits, InFlight inFlight, IngressMetrics metrics,
            ConnectionLimiter connections, String token) {
        this.metrics = metrics;
        this.router = router;
        this.limits = limits;
        this.inFlight = inFlight;
        this.connections = connections;
        this.token = token;
    }

    @Override
    protected void initChannel(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        p.addLast("connections", connections);
        p.addLast("idle", new IdleStateHandler(limits.idleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
        p.addLast("codec", new HttpServerCodec());
        p.addLast("length", LengthCheck.INSTANCE);
        p.addLast("aggregator", new OrderedAggregator(limits.maxRequestBytes()));
        p.addLast("ingest", new HttpIngestHandler(router, inFlight, metrics, limits.maxValueBytes(), token));
    }
}
