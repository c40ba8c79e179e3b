package dev.spillway.relay.spill;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Immutable settings of a {@link SpillLog}. Each default is defined once, here.
 */
public final class SpillLogConfig {

    public static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;
    public static final long DEFAULT_MAX_BYTES = 1024L * 1024 * 1024;
    public static final int DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
    public static final Duration DEFAULT_FLUSH_MAX_WAIT = Duration.ofMillis(2);
    public static final int DEFAULT_FLUSH_BYTES = 1024 * 1024;
    public static final int DEFAULT_WRITE_BUFFER_BYTES = 1024 * 1024;
    public static final long DEFAULT_RESERVE_BYTES = 1024 * 1024;

    private final Path directory;
    private final long segmentBytes;
    private final long maxBytes;
    private final int maxRecordBytes;
    private final Duration flushMaxWait;
    private final int flushBytes;
    private final int writeBufferBytes;
    private final long reserveBytes;

    private SpillLogConfig(Builder b) {
        this.directory = Objects.requireNonNull(b.directory, "directory");
        this.segmentBytes = b.segmentBytes;
        this.maxBytes = b.maxBytes;
        this.maxRecordBytes = b.maxRecordBytes;
        this.flushMaxWait = Objects.requireNonNull(b.flushMaxWait, "flushMaxWait");
        this.flushBytes = b.flushBytes;
        this.writeBufferBytes = b.writeBufferBytes;
        this.reserveBytes = b.reserveBytes;
        check(segmentBytes > SegmentFile.HEADER_BYTES + RecordCodec.PREFIX_BYTES + RecordCodec.FIXED_BODY_BYTES,
                "segmentBytes", segmentBytes, "> " + (SegmentFile.HEADER_BYTES + 64));
        check(maxBytes > 0, "maxBytes", maxBytes, "> 0");
        check(maxRecordBytes > RecordCodec.PREFIX_BYTES + RecordCodec.FIXED_BODY_BYTES, "maxRecordBytes",
                maxRecordBytes, "> " + (RecordCodec.PREFIX_BYTES + RecordCodec.FIXED_BODY_BYTES));
        check(maxRecordBytes <= segmentBytes - SegmentFile.HEADER_BYTES, "maxRecordBytes", maxRecordBytes,
                "<= segmentBytes - " + SegmentFile.HEADER_BYTES);
        check(!flushMaxWait.isNegative(), "flushMaxWait", flushMaxWait, ">= 0");
        check(reserveBytes >= 64 * 1024, "reserveBytes", reserveBytes, ">= 64KiB");
        check(flushBytes > 0, "flushBytes", flushBytes, "> 0");
        check(writeBufferBytes >= maxRecordBytes || writeBufferBytes > 0, "writeBufferBytes", writeBufferBytes, "> 0");
    }

    private static void check(boolean ok, String field, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException(field + ": " + value + " (expected: " + expected + ")");
        }
    }

    public static Builder builder(Path directory) {
        return new Builder(directory);
    }

    public Path directory() {
        return directory;
    }

    /** Size at which the active segment is closed and a new one started. */
    public long segmentBytes() {
        return segmentBytes;
    }

    /** Bound on the bytes of records not yet replayed; {@link SpillFullException} beyond it. */
    public long maxBytes() {
        return maxBytes;
    }

    /** Largest encoded record accepted (and the largest length recovery believes). */
    public int maxRecordBytes() {
        return maxRecordBytes;
    }

    /** Longest time written records wait for their fsync while appends keep arriving. */
    public Duration flushMaxWait() {
        return flushMaxWait;
    }

    /** Unsynced bytes that force an fsync even while appends keep arriving. */
    public int flushBytes() {
        return flushBytes;
    }

    /** Size of the writer's staging buffer (one write system call at most this big). */
    /**
     * Disk space the log holds in a file of its own ({@code reserve}) and gives up when the disk
     * is full, so that a fresh segment can be started and replayed ones deleted: a full disk
     * then drains instead of locking up. Also the free space needed, besides the reserve
     * itself, before the log takes appends again.
     */
    public long reserveBytes() {
        return reserveBytes;
    }

    public int writeBufferBytes() {
        return writeBufferBytes;
    }

    public static final class Builder {
        private Path directory;
        private long segmentBytes = DEFAULT_SEGMENT_BYTES;
        private long maxBytes = DEFAULT_MAX_BYTES;
        private int maxRecordBytes = DEFAULT_MAX_RECORD_BYTES;
        private Duration flushMaxWait = DEFAULT_FLUSH_MAX_WAIT;
        private int flushBytes = DEFAULT_FLUSH_BYTES;
        private int writeBufferBytes = DEFAULT_WRITE_BUFFER_BYTES;
        private long reserveBytes = DEFAULT_RESERVE_BYTES;

        private Builder(Path directory) {
            this.directory = directory;
        }

        public Builder segmentBytes(long v) {
            this.segmentBytes = v;
            return this;
        }

        public Builder maxBytes(long v) {
            this.maxBytes = v;
            return this;
        }

        public Builder maxRecordBytes(int v) {
            this.maxRecordBytes = v;
            return this;
        }

        public Builder flushMaxWait(Duration v) {
            this.flushMaxWait = v;
            return this;
        }

        public Builder flushBytes(int v) {
            this.flushBytes = v;
            return this;
        }

        public Builder reserveBytes(long v) {
            this.reserveBytes = v;
            return this;
        }

        public Builder writeBufferBytes(int v) {
            this.writeBufferBytes = v;
            return this;
        }

        public SpillLogConfig build() {
            return new SpillLogConfig(this);
        }
    }
}
