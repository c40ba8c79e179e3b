package dev.spillway.relay.ingress.resp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits an inline (telnet-style) command into arguments the way Redis does ({@code sdssplitargs}):
 * whitespace separates arguments; {@code "..."} quotes one, with {@code \n \r \t \b \a \\ \"}
 * and {@code \xHH} escapes; {@code '...'} quotes one literally but for {@code \'}; a closing
 * quote must end its argument. So {@code RPUSH "" v} pushes {@code v} to the empty key and
 * {@code RPUSH "my list" v} to {@code my list}, as {@code redis-server} would, rather than
 * to the keys {@code ""} and {@code "my}.
 *
 * <p>Stateless; thread-safe.
 */
final class InlineArgs {

    private InlineArgs() {}

    /** The arguments of {@code line}, or null when a quote is unbalanced (Redis's protocol error). */
    static List<byte[]> split(String line) {
        byte[] in = line.getBytes(StandardCharsets.UTF_8); // quotes and escapes are ASCII: never inside a UTF-8 sequence
        List<byte[]> args = new ArrayList<>();
        int p = 0;
        while (true) {
            while (p < in.length && isSpace(in[p])) {
                p++;
            }
            if (p == in.length) {
                return args;
            }
            ByteArrayOutputStream arg = new ByteArrayOutputStream();
            boolean inDouble = false;
            boolean inSingle = false;
            boolean done = false;
            while (!done) {
                byte c = p < in.length ? in[p] : 0;
                boolean end = p >= in.length;
                if (inDouble) {
                    if (end) {
                        return null;
                    } else if (c == '\\' && p + 3 < in.length && in[p + 1] == 'x' && hex(in[p + 2]) >= 0
                            && hex(in[p + 3]) >= 0) {
                        arg.write(hex(in[p + 2]) << 4 | hex(in[p + 3]));
                        p += 3;
                    } else if (c == '\\' && p + 1 < in.length) {
                        p++;
                        arg.write(switch (in[p]) {
                            case 'n' -> '\n';
                            case 'r' -> '\r';
                            case 't' -> '\t';
                            case 'b' -> '\b';
                            case 'a' -> 7;
                            default -> in[p];
                        });
                    } else if (c == '"') {
                        if (p + 1 < in.length && !isSpace(in[p + 1])) {
                            return null; // a closing quote must be followed by a space or nothing
                        }
                        done = true;
                    } else {
                        arg.write(c);
                    }
                } else if (inSingle) {
                    if (end) {
                        return null;
                    } else if (c == '\\' && p + 1 < in.length && in[p + 1] == '\'') {
                        p++;
                        arg.write('\'');
                    } else if (c == '\'') {
                        if (p + 1 < in.length && !isSpace(in[p + 1])) {
                            return null;
                        }
                        done = true;
                    } else {
                        arg.write(c);
                    }
                } else if (end || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
                    done = true;
                } else if (c == '"') {
                    inDouble = true;
                } else if (c == '\'') {
                    inSingle = true;
                } else {
                    arg.write(c);
                }
                if (p < in.length) {
                    p++;
                }
            }
            args.add(arg.toByteArray());
        }
    }

    private static boolean isSpace(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == '\f';
    }

    private static int hex(byte c) {
        return Character.digit(c, 16);
    }
}
