package dev.spillway.relay.sink;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.nio.charset.StandardCharsets;

/**
 * Writes Redis commands (arrays of bulk strings, as every client sends them) straight into one
 * buffer. A batch is a few commands with hundreds of arguments; Netty's {@code RedisEncoder}
 * takes one message object per argument and writes three buffers for each, which for a batch of
 * 1,000 messages is 3,000 buffers in one {@code writev}. Replies are read with Netty's decoder.
 *
 * <p>Stateless.
 */
final class RespWriter {

    private static final byte[] CRLF = {'\r', '\n'};

    private RespWriter() {}

    /** {@code *n}: a command of {@code n} words follows. */
    static void command(ByteBuf out, int words) {
        out.writeByte('*');
        number(out, words);
        out.writeBytes(CRLF);
    }

    static void word(ByteBuf out, byte[] bytes) {
        out.writeByte('$');
        number(out, bytes.length);
        out.writeBytes(CRLF);
        out.writeBytes(bytes);
        out.writeBytes(CRLF);
    }

    static void word(ByteBuf out, String ascii) {
        out.writeByte('$');
        number(out, ascii.length());
        out.writeBytes(CRLF);
        ByteBufUtil.writeAscii(out, ascii);
        out.writeBytes(CRLF);
    }

    static void word(ByteBuf out, long value) {
        int length = digits(value);
        out.writeByte('$');
        number(out, length);
        out.writeBytes(CRLF);
        number(out, value);
        out.writeBytes(CRLF);
    }

    /** The bytes {@link #word(ByteBuf, byte[])} writes for an argument of {@code length} bytes. */
    static int wordBytes(int length) {
        return 1 + digits(length) + 2 + length + 2;
    }

    /** A whole command of {@code words}, for the few that are sent once per connection. */
    static void command(ByteBuf out, String... words) {
        command(out, words.length);
        for (String w : words) {
            word(out, w.getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void number(ByteBuf out, long value) {
        if (value < 0) {
            out.writeByte('-');
            if (value == Long.MIN_VALUE) {
                ByteBufUtil.writeAscii(out, "9223372036854775808");
                return;
            }
            value = -value;
        }
        int length = digits(value);
        int at = out.writerIndex() + length;
        out.ensureWritable(length);
        for (int i = 1; i <= length; i++) {
            out.setByte(at - i, (int) ('0' + value % 10));
            value /= 10;
        }
        out.writerIndex(at);
    }

    private static int digits(long value) {
        if (value < 0) {
            return value == Long.MIN_VALUE ? 20 : 1 + digits(-value);
        }
        int n = 1;
        while (value >= 10) {
            value /= 10;
            n++;
        }
        return n;
    }
}
