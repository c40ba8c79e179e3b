package dev.spillway.chaos.workload;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One single-line RESP reply — {@code :n}, {@code -error}, {@code +status} — as the relay sends
 * them to RPUSH and LPUSH.
 *
 * @param type the reply's first byte
 * @param text the rest of the line, without CRLF
 */
record ReplyLine(byte type, String text) {

    /**
     * The next complete reply line in {@code in} (consumed), or null when {@code in} holds only
     * part of one.
     *
     * @throws IOException when a line fills the whole buffer without ending
     */
    static ReplyLine next(ByteBuffer in) throws IOException {
        int start = in.position();
        int end = -1;
        for (int i = start; i + 1 < in.limit(); i++) {
            if (in.get(i) == '\r' && in.get(i + 1) == '\n') {
                end = i;
                break;
            }
        }
        if (end < 0) {
            if (in.remaining() == in.capacity()) {
                throw new IOException("reply line longer than " + in.capacity() + " bytes");
            }
            return null;
        }
        byte type = in.get(start);
        byte[] line = new byte[end - start - 1];
        in.get(start + 1, line);
        in.position(end + 2);
        return new ReplyLine(type, new String(line, StandardCharsets.UTF_8));
    }
}
