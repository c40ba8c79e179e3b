package dev.spillway.relay.ingress.line;

import dev.spillway.relay.Message;
import dev.spillway.relay.ingress.InFlight;
import dev.spillway.relay.ingress.IngressMetrics;
import dev.spillway.relay.ingress.Rejections;
import dev.spillway.relay.ingress.ReplyingHandler;
import dev.spillway.relay.route.Intake;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.TooLongFrameException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The seed's line protocol: every {@code \n}-terminated line (a trailing {@code \r} is dropped)
 * is one message for the configured list, answered in order with {@code OK\n} once durable or
 * {@code ERR <reason>\n}. A line longer than {@code limits.maxValueBytes} is answered with an
 * error and skipped up to its newline; the connection carries on.
 *
 * <p>One instance per connection; confined to its event loop.
 */
public final class LineHandler extends ReplyingHandler<ByteBuf> {

    private static final Logger LOG = LoggerFactory.getLogger(LineHandler.class);

    static final byte[] OK = "OK\n".getBytes(StandardCharsets.US_ASCII);

    private final Intake router;
    private final byte[] key;
    private final int maxLineBytes;

    public LineHandler(Intake router, InFlight inFlight, IngressMetrics metrics, String key, int maxLineBytes) {
        super(ByteBuf.class, inFlight, metrics);
        this.router = router;
        this.key = key.getBytes(StandardCharsets.UTF_8);
        this.maxLineBytes = maxLineBytes;
    }


    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf line) {
        if (replies.isClosing()) {
            return;
        }
        byte[] value = ByteBufUtil.getBytes(line);
        replies.completeLater(1, submit(router, Message.ListOp.RPUSH, key, List.of(value)),
                err -> Unpooled.wrappedBuffer(err == null ? OK : err("" + Rejections.describe(err))));
    }

    /**
     * A too-long line is answered and skipped. Anything else (a fault of ours) is answered
     * {@code ERR internal error: ...} after every earlier answer, and the connection closes. A
     * failed connection is just closed: nobody is left to answer.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException || !ctx.channel().isActive()) {
            ctx.close();
        } else if (cause instanceof TooLongFrameException) {
            metrics.rejected("too-large", 1);
            replies.reply(Unpooled.wrappedBuffer(err("line too long: more than " + maxLineBytes
                    + " bytes (limits.maxValueBytes); skipped to its newline")));
        } else if (!replies.isClosing()) {
            LOG.warn("Line connection {} failed; answering the error and closing", ctx.channel(), cause);
            metrics.rejected("internal", 1);
            replies.replyAndClose(Unpooled.wrappedBuffer(err("internal error: " + cause)));
        }
    }

    static byte[] err(String reason) {
        return ("ERR " + reason.replace('\n', ' ').replace('\r', ' ') + "\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected Object idleGoodbye() {
        return Unpooled.wrappedBuffer(err("idle for longer than limits.idleTimeout; closing"));
    }
}
