package dev.spillway.relay.ingress.resp;

import dev.spillway.relay.config.Limits;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.redis.InlineCommandRedisMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads producers' commands off the wire: an array of bulk strings ({@code *N $len value …}) is
 * one {@link RespCommand}, its arguments copied straight from the socket's buffer into the byte
 * arrays the router keeps; a line that is not an array is an inline command
 * ({@code InlineCommandRedisMessage}, as Netty's {@code RedisDecoder} gives it). The limits are
 * enforced from the headers, before any content is read or any argument list allocated: more
 * elements than {@code limits.maxMultibulk}, a bulk string longer than {@code limits.maxValueBytes},
 * bulk strings adding up to more than {@code limits.maxRequestBytes}, an inline line longer than
 * {@code limits.maxInlineBytes} are refused with a {@link TooLongFrameException}. Anything else
 * that is not a command (a nested or null array, a null bulk string, an integer or status where
 * a command belongs, a malformed length, a bulk string longer than it said) is a protocol error
 * ({@link DecoderException}); after one, everything that follows is dropped, since the connection
 * is closing.
 *
 * <p>Why not Netty's {@code RedisDecoder}, which the relay used with an assembler behind it: that
 * decoder is general (replies as well as commands) and hands on every header and every bulk
 * string's content as a message object of its own, each a slice of the buffer passed through the
 * pipeline — seven messages, seven slices and a third of the bytes the relay allocated per
 * {@code RPUSH k v}. A command has one shape; this reads it in one pass. The state machine resets
 * nothing on an error: the connection closes.
 *
 * <p>Not sharable (per-connection state).
 */
final class RespRequestDecoder extends ByteToMessageDecoder {

    /** A complete command from an array of bulk strings. */
    record RespCommand(List<byte[]> args) {}

    /** The longest header line ({@code *} or {@code $}, a sign, 19 digits, CRLF) accepted. */
    private static final int MAX_HEADER = 32;
    private static final long INCOMPLETE = Long.MIN_VALUE;

    private enum State { COMMAND, ARG_HEADER, ARG_BODY, FAILED }

    private final Limits limits;
    private State state = State.COMMAND;
    private List<byte[]> args; // the command being read
    private int expected;
    private int argLength;
    private long requestBytes;

    RespRequestDecoder(Limits limits) {
        this.limits = limits;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            while (in.isReadable()) {
                switch (state) {
                    case COMMAND -> {
                        if (!command(in, out)) {
                            return;
                        }
                    }
                    case ARG_HEADER -> {
                        if (!argHeader(in)) {
                            return;
                        }
                    }
                    case ARG_BODY -> {
                        if (!argBody(in, out)) {
                            return;
                        }
                    }
                    case FAILED -> {
                        in.skipBytes(in.readableBytes());
                        return;
                    }
                }
            }
        } catch (DecoderException e) {
            state = State.FAILED;
            args = null;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /** The start of a command: an array header, or an inline line. False when more bytes are needed. */
    private boolean command(ByteBuf in, List<Object> out) {
        byte first = in.getByte(in.readerIndex());
        switch (first) {
            case '*' -> {
                long n = headerNumber(in);
                if (n == INCOMPLETE) {
                    return false;
                }
                if (n == -1) {
                    throw notCommand("a null array");
                }
                if (n < -1) {
                    throw new DecoderException("invalid multibulk length " + n);
                }
                if (n > limits.maxMultibulk()) {
                    throw new TooLongFrameException("multibulk length " + n + " exceeds limits.maxMultibulk "
                            + limits.maxMultibulk());
                }
                if (n == 0) {
                    out.add(new RespCommand(List.of()));
                    return true;
                }
                expected = (int) n;
                args = new ArrayList<>(expected);
                requestBytes = 0;
                state = State.ARG_HEADER;
                return true;
            }
            case '$' -> throw notCommand("a bulk string");
            case '+' -> throw notCommand("a simple string");
            case '-' -> throw notCommand("an error");
            case ':' -> throw notCommand("an integer");
            default -> {
                return inline(in, out);
            }
        }
    }

    /** A telnet-style line, CRLF-terminated as Netty's decoder wants it. */
    private boolean inline(ByteBuf in, List<Object> out) {
        int from = in.readerIndex();
        int window = Math.min(in.readableBytes(), limits.maxInlineBytes() + 2);
        int lf = in.indexOf(from, from + window, (byte) '\n');
        if (lf < 0) {
            if (in.readableBytes() > limits.maxInlineBytes()) {
                throw new TooLongFrameException("inline command of more than " + limits.maxInlineBytes()
                        + " bytes exceeds limits.maxInlineBytes");
            }
            return false;
        }
        if (lf == from || in.getByte(lf - 1) != '\r') {
            throw new DecoderException("an inline command must end in CRLF");
        }
        String line = in.toString(from, lf - 1 - from, StandardCharsets.UTF_8);
        in.readerIndex(lf + 1);
        out.add(new InlineCommandRedisMessage(line));
        return true;
    }

    private boolean argHeader(ByteBuf in) {
        byte first = in.getByte(in.readerIndex());
        if (first != '$') {
            throw notCommand(first == '*' ? "a nested array" : first == ':' ? "an integer"
                    : first == '+' ? "a simple string" : first == '-' ? "an error" : "inline bytes in an array");
        }
        long length = headerNumber(in);
        if (length == INCOMPLETE) {
            return false;
        }
        if (length == -1) {
            throw notCommand("a null bulk string");
        }
        if (length < -1) {
            throw new DecoderException("invalid bulk length " + length);
        }
        if (length > limits.maxValueBytes()) {
            throw new TooLongFrameException("bulk length " + length + " exceeds limits.maxValueBytes "
                    + limits.maxValueBytes());
        }
        requestBytes += length;
        if (requestBytes > limits.maxRequestBytes()) {
            throw new TooLongFrameException("command of more than " + limits.maxRequestBytes()
                    + " bytes exceeds limits.maxRequestBytes");
        }
        argLength = (int) length;
        state = State.ARG_BODY;
        return true;
    }

    private boolean argBody(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < argLength + 2) {
            return false;
        }
        byte[] value = new byte[argLength];
        in.readBytes(value);
        if (in.readByte() != '\r' || in.readByte() != '\n') {
            throw new DecoderException("bulk string longer than its declared " + argLength + " bytes");
        }
        args.add(value);
        if (args.size() == expected) {
            out.add(new RespCommand(args));
            args = null;
            state = State.COMMAND;
        } else {
            state = State.ARG_HEADER;
        }
        return true;
    }

    /**
     * The number of a header line ({@code *N\r\n} or {@code $N\r\n}) at the reader index, which
     * it consumes; {@link #INCOMPLETE} (consuming nothing) until the whole line is there.
     */
    private static long headerNumber(ByteBuf in) {
        int from = in.readerIndex();
        int window = Math.min(in.readableBytes(), MAX_HEADER);
        int lf = in.indexOf(from, from + window, (byte) '\n');
        if (lf < 0) {
            if (in.readableBytes() >= MAX_HEADER) {
                throw new DecoderException("a header line longer than " + MAX_HEADER + " bytes");
            }
            return INCOMPLETE;
        }
        int end = lf - 1; // the CR
        if (end <= from + 1 || in.getByte(end) != '\r') {
            throw new DecoderException("a header line must be a number ending in CRLF");
        }
        int i = from + 1;
        boolean negative = in.getByte(i) == '-';
        if (negative) {
            i++;
        }
        if (i == end || end - i > 19) {
            throw new DecoderException("invalid length in a header line");
        }
        long n = 0;
        for (; i < end; i++) {
            byte d = in.getByte(i);
            if (d < '0' || d > '9') {
                throw new DecoderException("invalid length in a header line");
            }
            n = n * 10 + (d - '0');
            if (n < 0) {
                throw new DecoderException("invalid length in a header line");
            }
        }
        in.readerIndex(lf + 1);
        return negative ? -n : n;
    }

    private static DecoderException notCommand(String got) {
        return new DecoderException("expected a command as an array of bulk strings, got " + got);
    }
}
