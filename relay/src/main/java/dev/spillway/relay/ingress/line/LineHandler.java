package dev.spillway.relay.ingress.line;

import dev.spillway.relay.Message;
import dev.spillway.relay.ingress.InFlight;
import dev.spillway.relay.ingress.IngressMetrics;
import dev.spillway.relay.ingress.Rejections;
import dev.spillway.relay.ingress.ReplyQueue;
import dev.spillway.relay.route.Intake;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.timeout.IdleStateEvent;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The seed's line protocol: every {@code \n}-terminated line (a trailing {@code \r} is dropped)
 * is one message for the configured list, answered in order with {@code OK\n} once durable or
 * {@code ERR <reason>\n}. A line longer than {@code limits.maxValueBytes} is answered with an
 * error and skipped up to its newline; the connection carries on.
 *
 * <p>One instance per connection; confined to its event loop.
 */
public final class LineHandler extends SimpleChannelInboundHandler<ByteBuf> {

    static final byte[] OK = "OK\n".getBytes(StandardCharsets.US_ASCII);

    private final Intake router;
    private final InFlight inFlight;
    private final IngressMetrics metrics;
    private final byte[] key;
    private final int maxLineBytes;
    private ReplyQueue replies;

    public LineHandler(Intake router, InFlight inFlight, IngressMetrics metrics, String key, int maxLineBytes) {
        this.router = router;
        this.inFlight = inFlight;
        this.metrics = metrics;
        this.key = key.getBytes(StandardCharsets.UTF_8);
        this.maxLineBytes = maxLineBytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        replies = new ReplyQueue(ctx, inFlight, metrics);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
        if (replies.isClosing()) {
            return;
        }
        byte[] value = ByteBufUtil.getBytes(line);
        replies.completeLater(1, router.submit(Message.ListOp.RPUSH, key, List.of(value)),
                err -> Unpooled.wrappedBuffer(err == null ? OK : err("" + Rejections.describe(err))));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            metrics.rejected("too-large", 1);
            replies.reply(Unpooled.wrappedBuffer(err("line too long: more than " + maxLineBytes
                    + " bytes (limits.maxValueBytes); skipped to its newline")));
        } else {
            ctx.close();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof IdleStateEvent && replies.pending() == 0) {
            replies.replyAndClose(Unpooled.wrappedBuffer(err("idle for longer than limits.idleTimeout; closing")));
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

    static byte[] err(String reason) {
        return ("ERR " + reason.replace('\n', ' ').replace('\r', ' ') + "\n").getBytes(StandardCharsets.UTF_8);
    }
}
