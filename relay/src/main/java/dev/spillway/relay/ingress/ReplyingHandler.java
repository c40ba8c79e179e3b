package dev.spillway.relay.ingress;

import dev.spillway.relay.Message;
import dev.spillway.relay.route.Intake;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every ingress listener's last handler shares: a {@link ReplyQueue} per connection, reading
 * paused while replies cannot leave, the idle timeout (close a silent connection that is owed
 * nothing, with the listener's own goodbye), a half-close answered before closing (listeners
 * allow half-closure), and cleanup when the connection goes away.
 *
 * <p>One instance per connection; confined to its event loop.
 */
public abstract class ReplyingHandler<I> extends SimpleChannelInboundHandler<I> {

    private static final Logger LOG = LoggerFactory.getLogger(ReplyingHandler.class);

    private final InFlight inFlight;
    protected final IngressMetrics metrics;
    protected ReplyQueue replies;

    protected ReplyingHandler(Class<? extends I> inboundType, InFlight inFlight, IngressMetrics metrics) {
        super(inboundType);
        this.inFlight = inFlight;
        this.metrics = metrics;
    }

    /**
     * Hands a request's messages to the router. A router that throws instead of failing the
     * future (a message it cannot even build, or a bug) refuses that request alone, in its turn,
     * and the connection carries on — rather than the exception closing the connection without
     * a reply and discarding the answers owed to earlier pipelined requests.
     */
    protected static CompletableFuture<Void> submit(Intake router, Message.ListOp op, byte[] key,
            List<byte[]> values) {
        try {
            return router.submit(op, key, values);
        } catch (RuntimeException e) {
            LOG.warn("The router threw instead of refusing {} value(s) for a key of {} bytes; refusing them", values.size(),
                    key.length, e);
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The last words to an idle connection before it is closed, or null to just close it. */
    protected abstract Object idleGoodbye();

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        replies = new ReplyQueue(ctx, inFlight, metrics);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            // The client half-closed (sent all it will send, e.g. nc, shutdown(SHUT_WR)): it still
            // reads, so answer everything it sent, then close.
            replies.closeWhenDone();
        } else if (evt instanceof IdleStateEvent && replies.pending() == 0) {
            Object goodbye = idleGoodbye();
            if (goodbye == null) {
                ctx.close();
            } else {
                replies.replyAndClose(goodbye);
            }
        } else {
            super.userEventTriggered(ctx, evt);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        replies.writabilityChanged();
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        replies.discard();
        super.channelInactive(ctx);
    }
}
