package dev.spillway.relay.ingress.line;

import dev.spillway.relay.ingress.ListenerContext;
import dev.spillway.relay.ingress.ListenerInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LineBasedFrameDecoder;

/** The line-protocol listener's pipeline, assembled in one place. */
public final class LineInitializer extends ListenerInitializer {

    private final String key;

    public LineInitializer(ListenerContext context, String key) {
        super(context);
        this.key = key;
    }

    @Override
    protected void addHandlers(ChannelPipeline p) {
        // failFast: a too-long line is reported at once and then skipped up to its newline
        p.addLast("lines", new LineBasedFrameDecoder(context.limits().maxValueBytes(), true, true));
        p.addLast("handler", new LineHandler(context.router(), context.inFlight(), context.metrics(), key,
                context.limits().maxValueBytes()));
    }
}
