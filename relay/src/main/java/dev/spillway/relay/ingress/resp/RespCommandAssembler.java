package dev.spillway.relay.ingress.resp;

import dev.spillway.relay.config.Limits;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.redis.ArrayHeaderRedisMessage;
import io.netty.handler.codec.redis.BulkStringHeaderRedisMessage;
import io.netty.handler.codec.redis.BulkStringRedisContent;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.InlineCommandRedisMessage;
import io.netty.handler.codec.redis.LastBulkStringRedisContent;
import io.netty.handler.codec.redis.RedisMessage;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns {@code RedisDecoder}'s output into whole commands ({@link RespCommand}: the arguments as
 * byte arrays), enforcing the limits from the headers — before any bulk content is read or any
 * argument list allocated: more elements than {@code limits.maxMultibulk}, a bulk string longer
 * than {@code limits.maxValueBytes}, or bulk strings adding up to more than
 * {@code limits.maxRequestBytes} are refused with a {@link TooLongFrameException}.
 *
 * <p>It does the work of Netty's {@code RedisBulkStringAggregator} and
 * {@code RedisArrayAggregator} for the one shape a command has — an array of bulk strings —
 * copying each bulk string straight into the byte array the router keeps, instead of
 * aggregating it into a composite buffer, wrapping it in messages and copying it again.
 * Inline commands pass through unchanged. Anything else (a nested array, a null array, an
 * integer or simple string where a command belongs) is a protocol error
 * ({@link DecoderException}); after one, everything that follows is dropped, since the
 * connection is closing.
 *
 * <p>Not sharable (per-connection state).
 */
final class RespCommandAssembler extends ChannelInboundHandlerAdapter {

    /** A complete command from an array of bulk strings. */
    record RespCommand(List<byte[]> args) {}

    private final Limits limits;
    private ChannelHandlerContext ctx;
    private List<byte[]> args; // the command being assembled, or null between commands
    private int expected;
    private byte[] bulk; // the bulk string being filled, or null between bulk strings
    private int filled;
    private long requestBytes;
    private boolean failed;

    RespCommandAssembler(Limits limits) {
        this.limits = limits;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (failed) {
            ReferenceCountUtil.release(msg);
            return;
        }
        try {
            if (msg instanceof FullBulkStringRedisMessage b) {
                // RedisDecoder's shortcut for $0 and $-1; checked first, as it is bulk string content too
                if (args == null || b.isNull()) {
                    throw notCommand(b.isNull() ? "a null bulk string" : "a bulk string");
                }
                add(new byte[0]);
            } else if (msg instanceof BulkStringRedisContent content) {
                append(content);
            } else if (msg instanceof ArrayHeaderRedisMessage h) {
                beginArray(h);
            } else if (msg instanceof BulkStringHeaderRedisMessage h) {
                beginBulk(h);
            } else if (msg instanceof InlineCommandRedisMessage && args == null) {
                ctx.fireChannelRead(msg);
                return;
            } else {
                throw notCommand(describe(msg));
            }
            ReferenceCountUtil.release(msg);
        } catch (DecoderException e) {
            ReferenceCountUtil.release(msg);
            failed = true;
            args = null;
            bulk = null;
            throw e;
        }
    }

    private void beginArray(ArrayHeaderRedisMessage h) {
        if (args != null) {
            throw notCommand("a nested array");
        }
        if (h.isNull()) {
            throw notCommand("a null array");
        }
        if (h.length() > limits.maxMultibulk()) {
            throw new TooLongFrameException("multibulk length " + h.length() + " exceeds limits.maxMultibulk "
                    + limits.maxMultibulk());
        }
        requestBytes = 0;
        if (h.length() == 0) {
            ctx.fireChannelRead(new RespCommand(List.of()));
            return;
        }
        expected = (int) h.length();
        args = new ArrayList<>(expected);
    }

    private void beginBulk(BulkStringHeaderRedisMessage h) {
        if (args == null) {
            throw notCommand("a bulk string");
        }
        int length = h.bulkStringLength();
        if (length > limits.maxValueBytes()) {
            throw new TooLongFrameException("bulk length " + length + " exceeds limits.maxValueBytes "
                    + limits.maxValueBytes());
        }
        requestBytes += Math.max(0, length);
        if (requestBytes > limits.maxRequestBytes()) {
            throw new TooLongFrameException("command of more than " + limits.maxRequestBytes()
                    + " bytes exceeds limits.maxRequestBytes");
        }
        bulk = new byte[length];
        filled = 0;
    }

    private void append(BulkStringRedisContent content) {
        if (bulk == null) {
            throw notCommand("bulk string content without a header");
        }
        ByteBuf buf = content.content();
        int n = buf.readableBytes();
        if (n > bulk.length - filled) {
            throw new DecoderException("bulk string longer than its declared " + bulk.length + " bytes");
        }
        buf.getBytes(buf.readerIndex(), bulk, filled, n);
        filled += n;
        if (content instanceof LastBulkStringRedisContent) {
            if (filled != bulk.length) {
                throw new DecoderException("bulk string of " + filled + " bytes, " + bulk.length + " declared");
            }
            byte[] done = bulk;
            bulk = null;
            add(done);
        }
    }

    private void add(byte[] arg) {
        args.add(arg);
        if (args.size() == expected) {
            List<byte[]> command = args;
            args = null;
            ctx.fireChannelRead(new RespCommand(command));
        }
    }

    private static DecoderException notCommand(String got) {
        return new DecoderException("expected a command as an array of bulk strings, got " + got);
    }

    private static String describe(Object msg) {
        return msg instanceof RedisMessage ? msg.getClass().getSimpleName() : String.valueOf(msg);
    }
}
