package dev.spillway.relay.ingress;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;

/**
 * An ingress listener's pipeline: the head every listener shares — TLS when the listener has it,
 * the connection limit, then the idle timeout — and after it the listener's own handlers.
 */
public abstract class ListenerInitializer extends ChannelInitializer<Channel> {

    protected final ListenerContext context;

    protected ListenerInitializer(ListenerContext context) {
        this.context = context;
    }

    @Override
    protected final void initChannel(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        if (context.tls() != null) {
            context.tls().install(ch);
        }
        p.addLast("connections", context.connections());
        p.addLast("idle", new IdleStateHandler(context.limits().idleTimeout().toMillis(), 0, 0,
                TimeUnit.MILLISECONDS));
        addHandlers(p);
    }

    /** Adds the listener's own handlers after the shared head. */
    protected abstract void addHandlers(ChannelPipeline p);
}
