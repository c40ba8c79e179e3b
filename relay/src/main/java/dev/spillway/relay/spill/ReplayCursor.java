package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads durable records in log order and commits the replay position once records are safely
 * in Redis. Reads run ahead of commits; a restart resumes from the last commit, so records
 * read but not committed are delivered again (the Redis write path is idempotent).
 *
 * <p>Thread-safe (methods are synchronized); meant for one replayer.
 */
public final class ReplayCursor {

    private static final int READ_CHUNK_BYTES = 256 * 1024;

    private final SpillLog log;
    private final SpillLogConfig config;
    private final SpillStorage storage;
    private final CursorFile cursorFile;

    private long committedIndex;
    private long readIndex;
    private SegmentFile readSegment;
    private FileChannel readChannel;
    private SegmentScanner scanner;
    private long pendingReadOffset;
    /** Sizes of records read but not yet committed, oldest first. */
    private int[] readSizes = new int[1024];
    private int readSizesHead;
    private int readSizesCount;

    ReplayCursor(SpillLog log, SpillLogConfig config, SpillStorage storage, CursorFile cursorFile, long committedIndex,
            long readOffset) {
        this.log = log;
        this.config = config;
        this.storage = storage;
        this.cursorFile = cursorFile;
        this.committedIndex = committedIndex;
        this.readIndex = committedIndex;
        this.pendingReadOffset = readOffset;
    }

    /** Index of the first record not yet committed. */
    public synchronized long committedIndex() {
        return committedIndex;
    }

    /** Index of the next record {@link #read} returns. */
    public synchronized long readIndex() {
        return readIndex;
    }

    /**
     * Up to {@code maxRecords} durable records (and about {@code maxBytes}; at least one record
     * when any is durable) following the last one read; empty when the reader has caught up.
     *
     * @throws SpillCorruptedException when a record no longer checks out; it is not returned
     */
    public synchronized List<SpilledMessage> read(int maxRecords, long maxBytes) throws IOException {
        List<SpilledMessage> out = new ArrayList<>(Math.min(maxRecords, 1024));
        long bytes = 0;
        DurablePosition durable = log.durable();
        while (out.size() < maxRecords && readIndex < durable.endIndex() && (out.isEmpty() || bytes < maxBytes)) {
            positionScanner();
            // Of the segment being written, only the durable bytes: what lies past them may be
            // taken back by a failed fsync and rewritten with other records.
            RecordCodec.Check check = scanner.next(
                    readSegment.baseIndex() == durable.segmentBase() ? durable.segmentBytes() : Long.MAX_VALUE);
            if (check != RecordCodec.Check.VALID) {
                throw new SpillCorruptedException("spill record " + readIndex + " in " + readSegment + " at offset "
                        + scanner.offset() + " is " + check.name().toLowerCase() + " although it was fsync'd");
            }
            SpilledMessage m = scanner.take();
            out.add(m);
            bytes += m.encodedSize();
            rememberSize(m.encodedSize());
            readIndex++;
        }
        return out;
    }

    /**
     * Marks every record below {@code upToIndex} as safely written elsewhere: the position is
     * made durable (atomically), their bytes count as free again, and segments holding only
     * committed records are deleted.
     */
    public void commit(long upToIndex) throws IOException {
        long freedMessages;
        long freedBytes = 0;
        synchronized (this) {
            if (upToIndex <= committedIndex) {
                return;
            }
            if (upToIndex > readIndex) {
                throw new IllegalArgumentException(
                        "commit " + upToIndex + " (expected: <= read position " + readIndex + ")");
            }
            freedMessages = upToIndex - committedIndex;
            for (long i = 0; i < freedMessages; i++) {
                freedBytes += readSizes[readSizesHead];
                readSizesHead = (readSizesHead + 1) % readSizes.length;
                readSizesCount--;
            }
            cursorFile.write(upToIndex);
            committedIndex = upToIndex;
        }
        log.committed(freedMessages, freedBytes);
    }

    /** Moves back to the last commit, so the records read since are read again. */
    public synchronized void rewind() throws IOException {
        if (readIndex == committedIndex) {
            return;
        }
        closeChannel();
        readIndex = committedIndex;
        readSizesCount = 0;
        pendingReadOffset = -1;
    }

    synchronized void close() throws IOException {
        try {
            closeChannel();
        } finally {
            cursorFile.close();
        }
    }

    private void positionScanner() throws IOException {
        SegmentFile segment = log.segmentContaining(readIndex);
        if (segment == null) {
            throw new SpillCorruptedException("no spill segment holds record " + readIndex);
        }
        if (scanner != null && segment == readSegment) {
            return;
        }
        closeChannel();
        readSegment = segment;
        readChannel = storage.open(readSegment.path(), StandardOpenOption.READ);
        long offset = pendingReadOffset;
        pendingReadOffset = -1;
        if (offset < 0 || readIndex == readSegment.baseIndex()) {
            offset = SegmentFile.HEADER_BYTES;
            scanner = new SegmentScanner(readChannel, offset, readSegment.baseIndex(), config.maxRecordBytes(),
                    READ_CHUNK_BYTES);
            while (scanner.expectedIndex() < readIndex) { // after a rewind: find the record again
                if (scanner.next(readLimit()) != RecordCodec.Check.VALID) {
                    throw new SpillCorruptedException("spill segment " + readSegment + " is damaged before record "
                            + readIndex);
                }
                scanner.skip();
            }
        } else {
            scanner = new SegmentScanner(readChannel, offset, readIndex, config.maxRecordBytes(), READ_CHUNK_BYTES);
        }
    }

    private long readLimit() {
        DurablePosition durable = log.durable();
        return readSegment.baseIndex() == durable.segmentBase() ? durable.segmentBytes() : Long.MAX_VALUE;
    }

    private void rememberSize(int size) {
        if (readSizesCount == readSizes.length) {
            int[] bigger = new int[readSizes.length * 2];
            for (int i = 0; i < readSizesCount; i++) {
                bigger[i] = readSizes[(readSizesHead + i) % readSizes.length];
            }
            readSizes = bigger;
            readSizesHead = 0;
        }
        readSizes[(readSizesHead + readSizesCount) % readSizes.length] = size;
        readSizesCount++;
    }

    private void closeChannel() throws IOException {
        scanner = null;
        readSegment = null;
        if (readChannel != null) {
            readChannel.close();
            readChannel = null;
        }
    }
}
