package dev.spillway.chaos.workload;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One command of a {@link PipelinedRespProducer}: the sequences of its values, its bytes, and how
 * far writing them on the current connection got.
 *
 * <p>Not thread-safe: the producer's thread only.
 */
final class PipelinedCommand {

    final long firstSeq;
    final int count;
    final long firstSentNanos;
    private final byte[] bytes;
    ByteBuffer wire;
    long sentNanos;

    PipelinedCommand(long firstSeq, int count, byte[] bytes, long now) {
        this.firstSeq = firstSeq;
        this.count = count;
        this.bytes = bytes;
        this.firstSentNanos = now;
        this.sentNanos = now;
        this.wire = ByteBuffer.wrap(bytes);
    }

    /** True when some of it was written: it may have reached the relay and landed. */
    boolean reachedWire() {
        return wire.position() > 0;
    }

    /** Starts writing it again from the first byte (on a new connection). */
    void rewind(long now) {
        wire = ByteBuffer.wrap(bytes);
        sentNanos = now;
    }

    /** {@code verb key values...} as a RESP array of bulk strings. */
    static byte[] encode(String verb, String key, List<String> values) {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64 + 24 * values.size());
        header(b, '*', 2 + values.size());
        bulk(b, verb);
        bulk(b, key);
        for (String v : values) {
            bulk(b, v);
        }
        return b.toByteArray();
    }

    private static void header(ByteArrayOutputStream b, char type, int n) {
        b.writeBytes((type + String.valueOf(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static void bulk(ByteArrayOutputStream b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        header(b, '$', bytes.length);
        b.writeBytes(bytes);
        b.writeBytes(new byte[] {'\r', '\n'});
    }
}
