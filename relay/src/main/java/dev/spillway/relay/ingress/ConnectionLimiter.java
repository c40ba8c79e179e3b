package dev.spillway.relay.ingress;

import com.codahale.metrics.Meter;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.group.ChannelGroup;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts ingress connections across all listeners; one past {@code limits.maxConnections} gets
 * the listener's own error ({@code refusal}) and is closed before anything else happens.
 * One instance per listener, sharing the counter; thread-safe.
 */
@ChannelHandler.Sharable
public final class ConnectionLimiter extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(ConnectionLimiter.class);

    private final AtomicInteger open;
    private final ChannelGroup all;
    private final int max;
    private final Meter refused;
    private final Function<String, Object> refusal;

    public ConnectionLimiter(AtomicInteger open, ChannelGroup all, int max, Meter refused,
            Function<String, Object> refusal) {
        this.refused = refused;
        this.open = open;
        this.all = all;
        this.max = max;
        this.refusal = refusal;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        int now = open.incrementAndGet();
        if (now > max) {
            refused.mark();
            LOG.warn("Refusing connection from {}: {} open (limits.maxConnections={})", ctx.channel().remoteAddress(),
                    now - 1, max);
            // On a TLS listener the SslHandler still reads what the handshake needs, so the refusal
            // reaches the client encrypted, once the handshake is through.
            ctx.channel().config().setAutoRead(false);
            // through the whole pipeline, so that the listener's encoder (after this handler) serializes it
            ctx.channel().writeAndFlush(refusal.apply("too many connections (limits.maxConnections=" + max + ")"))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        all.add(ctx.channel());
        super.channelActive(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        open.decrementAndGet();
        super.channelInactive(ctx);
    }
}
