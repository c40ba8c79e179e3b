package dev.spillway.relay.ingress.http;

import dev.spillway.relay.ingress.ListenerContext;
import dev.spillway.relay.ingress.ListenerInitializer;
import dev.spillway.relay.security.IngressUsers;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpServerCodec;

/**
 * The HTTP ingest listener's pipeline. {@link OrderedAggregator} gathers each request and its
 * body, sends {@code 100 Continue} when asked, and has a body larger than
 * {@code limits.maxRequestBytes} refused (413) in request order without reading it.
 */
public final class HttpIngestInitializer extends ListenerInitializer {

    private final IngressUsers users;

    public HttpIngestInitializer(ListenerContext context, IngressUsers users) {
        super(context);
        this.users = users;
    }

    @Override
    protected void addHandlers(ChannelPipeline p) {
        p.addLast("codec", new HttpServerCodec());
        p.addLast("length", LengthCheck.INSTANCE);
        p.addLast("aggregator", new OrderedAggregator(context.limits().maxRequestBytes()));
        p.addLast("ingest", new HttpIngestHandler(context.router(), context.inFlight(), context.metrics(),
                context.limits().maxValueBytes(), users));
    }
}
