package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Reads records of one segment in order through a chunk buffer, checking each one. Used by
 * recovery (which stops at the first record that does not check out) and by the replay cursor
 * (which only asks for records it knows to be durable).
 *
 * <p>Not thread-safe.
 */
final class SegmentScanner {

    private final FileChannel channel;
    private final int maxRecordBytes;
    private ByteBuffer buf;
    /** File offset of {@code buf}'s position 0. */
    private long bufStart;
    private long expectedIndex;

    SegmentScanner(FileChannel channel, long offset, long expectedIndex, int maxRecordBytes, int chunkBytes) {
        this.channel = channel;
        this.maxRecordBytes = maxRecordBytes;
        this.expectedIndex = expectedIndex;
        this.buf = ByteBuffer.allocate(chunkBytes).limit(0);
        this.bufStart = offset;
    }

    /** {@link #next(long)} with no limit: the whole file as it is now. */
    RecordCodec.Check next() throws IOException {
        return next(Long.MAX_VALUE);
    }

    /**
     * Looks at the next record, reading more of the file when needed but never a byte at or
     * past {@code limit} (so a reader never holds bytes that are not yet durable, and may be
     * rewritten after a failed fsync). {@code INCOMPLETE} means the file (as of now, up to the
     * limit) ends before the record does, or ends exactly here.
     */
    RecordCodec.Check next(long limit) throws IOException {
        while (true) {
            RecordCodec.Check c = RecordCodec.check(buf, expectedIndex, maxRecordBytes);
            if (c != RecordCodec.Check.INCOMPLETE || !fill(limit)) {
                return c;
            }
        }
    }

    /** True when the record {@link #next} found valid is not the last of its request. */
    boolean continued() {
        return RecordCodec.continued(buf);
    }

    /** Decodes the record {@link #next} found valid and moves past it. */
    SpilledMessage take() {
        SpilledMessage m = RecordCodec.decode(buf);
        expectedIndex++;
        return m;
    }

    /** Moves past the record {@link #next} found valid without decoding it; returns its size. */
    int skip() {
        int size = RecordCodec.recordSize(buf);
        buf.position(buf.position() + size);
        expectedIndex++;
        return size;
    }

    /** File offset of the next record. */
    long offset() {
        return bufStart + buf.position();
    }

    long expectedIndex() {
        return expectedIndex;
    }

    private boolean fill(long limit) throws IOException {
        int needed = buf.remaining() >= RecordCodec.PREFIX_BYTES
                ? RecordCodec.PREFIX_BYTES + Math.max(0, buf.getInt(buf.position()))
                : RecordCodec.PREFIX_BYTES;
        bufStart += buf.position();
        buf.compact();
        if (needed > buf.capacity()) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.min(Math.max(needed, buf.capacity() * 2), maxRecordBytes));
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
        long from = bufStart + buf.position();
        if (from >= limit) {
            buf.flip();
            return false;
        }
        if (limit - from < buf.remaining()) {
            buf.limit(buf.position() + (int) (limit - from));
        }
        int n = channel.read(buf, from);
        buf.flip();
        return n > 0;
    }
}
