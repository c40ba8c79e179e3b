package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a spill directory to a consistent state on open: scans every segment, verifies each
 * record's CRC and index, truncates at the first record that does not check out (a torn tail
 * after a crash, or damage), deletes segments that follow damage or are fully replayed, and
 * reports every byte it dropped. Indexes are derived from the log, never trusted from elsewhere.
 *
 * <p>Not thread-safe; runs once, before the log is shared.
 */
final class LogRecovery {

    private static final Logger LOG = LoggerFactory.getLogger(LogRecovery.class);
    private static final int SCAN_CHUNK_BYTES = 1024 * 1024;

    /** The state the log starts from, with its cursor file open for commits. */
    record State(NavigableMap<Long, SegmentFile> segments, long activeSize, long endIndex, long committedIndex,
            long readOffset, long pendingMessages, long pendingBytes, RecoveryReport report, CursorFile cursorFile) {}

    private final Path dir;
    private final int maxRecordBytes;
    private final SpillStorage storage;
    private final List<String> actions = new ArrayList<>();
    private long bytesDropped;

    LogRecovery(Path dir, int maxRecordBytes, SpillStorage storage) {
        this.dir = dir;
        this.maxRecordBytes = maxRecordBytes;
        this.storage = storage;
    }

    /**
     * Recovers the log in {@code config.directory()} and opens its cursor file. When the disk is
     * full and recovery needs a little room (a fresh segment, a cursor file written anew), gives
     * up the reserve and recovers again (recovery is idempotent).
     */
    static State recover(SpillLogConfig config, SpillStorage storage, DiskSpace space) throws IOException {
        try {
            return new LogRecovery(config.directory(), config.maxRecordBytes(), storage).recover();
        } catch (IOException e) {
            if (!DiskSpace.mentionsNoSpace(e) || !space.giveUpReserve()) {
                throw e;
            }
            LOG.warn("Spill disk full while recovering ({}): reserve given up, recovering again", e.getMessage());
            return new LogRecovery(config.directory(), config.maxRecordBytes(), storage).recover();
        }
    }

    State recover() throws IOException {
        deleteTempFiles();
        long committed = readCommitted();

        NavigableMap<Long, SegmentFile> kept = new TreeMap<>();
        long expectedBase = -1;
        long activeSize = 0;
        long pendingMessages = 0;
        long pendingBytes = 0;
        long readOffset = -1;
        long records = 0;
        boolean damaged = false;
        for (SegmentFile seg : listSegments()) {
            long size = sizeOf(seg);
            if (expectedBase >= 0 && seg.baseIndex() > expectedBase && committed >= seg.baseIndex()) {
                // every record before this segment was replayed (the cursor is past its base): what
                // came before — a gap, or damage — is done with, and the log goes on from here
                for (SegmentFile done : List.copyOf(kept.values())) {
                    drop(done, "holds only replayed records before index " + seg.baseIndex()
                            + ", where the log goes on after a gap or damage");
                }
                kept.clear();
                pendingMessages = 0;
                pendingBytes = 0;
                readOffset = -1;
                expectedBase = -1;
                damaged = false;
            }
            if (damaged) {
                drop(seg, "follows damage earlier in the log");
                continue;
            }
            if (expectedBase >= 0 && seg.baseIndex() < expectedBase && size <= SegmentFile.HEADER_BYTES) {
                // a segment a roll created and then gave up (or a crash cut short): it holds no
                // record, and the log went on in the segment before it
                drop(seg, "is empty and starts at index " + seg.baseIndex() + " inside the log (ending at "
                        + expectedBase + "): left by an interrupted roll");
                continue;
            }
            if (expectedBase >= 0 && seg.baseIndex() != expectedBase) {
                drop(seg, "starts at index " + seg.baseIndex() + " but the log ends at " + expectedBase);
                damaged = true;
                continue;
            }
            try (FileChannel ch = storage.open(seg.path(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ByteBuffer header = ByteBuffer.allocate(SegmentFile.HEADER_BYTES);
                while (header.hasRemaining() && ch.read(header, header.position()) > 0) {
                    // a header is 20 bytes
                }
                if (!SegmentFile.validHeader(header.flip(), seg.baseIndex())) {
                    drop(seg, "has no valid header (" + size + " bytes)");
                    damaged = true;
                    continue;
                }
                SegmentScanner scan = new SegmentScanner(ch, SegmentFile.HEADER_BYTES, seg.baseIndex(),
                        maxRecordBytes, SCAN_CHUNK_BYTES);
                // the end of the last whole request, and the counts up to it
                long requestEnd = scan.offset();
                long requestEndIndex = scan.expectedIndex();
                long requestEndRecords = records;
                long requestEndPending = pendingMessages;
                long requestEndPendingBytes = pendingBytes;
                long requestEndReadOffset = readOffset;
                while (true) {
                    if (scan.expectedIndex() == committed) {
                        readOffset = scan.offset();
                    }
                    if (scan.next() != RecordCodec.Check.VALID) {
                        break;
                    }
                    boolean pending = scan.expectedIndex() >= committed;
                    boolean continued = scan.continued();
                    int recordSize = scan.skip();
                    records++;
                    if (pending) {
                        pendingMessages++;
                        pendingBytes += recordSize;
                    }
                    if (!continued) {
                        requestEnd = scan.offset();
                        requestEndIndex = scan.expectedIndex();
                        requestEndRecords = records;
                        requestEndPending = pendingMessages;
                        requestEndPendingBytes = pendingBytes;
                        requestEndReadOffset = readOffset;
                    }
                }
                if (requestEndIndex != scan.expectedIndex()) {
                    // a crash left a request half written: none of it was acknowledged, and none
                    // of it may be replayed (a request is all or nothing)
                    String what = "cut a request left incomplete at index " + requestEndIndex + " ("
                            + (scan.expectedIndex() - requestEndIndex) + " of its records were on disk)";
                    actions.add(what);
                    LOG.warn("Spill log recovery {}", what);
                    records = requestEndRecords;
                    pendingMessages = requestEndPending;
                    pendingBytes = requestEndPendingBytes;
                    readOffset = requestEndReadOffset;
                }
                long validEnd = requestEnd;
                if (validEnd < size) {
                    ch.truncate(validEnd);
                    ch.force(true);
                    bytesDropped += size - validEnd;
                    String what = "truncated " + seg.path() + " at offset " + validEnd + ": dropped "
                            + (size - validEnd) + " bytes after index " + (requestEndIndex - 1);
                    actions.add(what);
                    LOG.warn("Spill log recovery {}", what);
                    damaged = true;
                }
                kept.put(seg.baseIndex(), seg);
                expectedBase = requestEndIndex;
                activeSize = validEnd;
            }
        }

        long endIndex = expectedBase >= 0 ? expectedBase : Math.max(committed, 0);
        if (committed < 0 || committed < firstIndex(kept, endIndex)) {
            // No cursor (new log) or a damaged one: replay from the oldest record still here;
            // replay is idempotent, so re-sending is safe where skipping would not be.
            committed = firstIndex(kept, endIndex);
            readOffset = kept.isEmpty() ? -1 : SegmentFile.HEADER_BYTES;
            pendingMessages = endIndex - committed;
            pendingBytes = kept.isEmpty() ? 0 : sumRecordBytes(kept, activeSize);
        }
        if (committed > endIndex) {
            // Every record still here was replayed, and so were some that damage took away. The
            // log goes on at the cursor, with no segment before it: a segment left ending below
            // the next one's base would read as a gap, and a later open would drop what follows.
            String what = "cursor at index " + committed + " is past the log's end " + endIndex
                    + "; the log goes on from " + committed;
            actions.add(what);
            LOG.warn("Spill log recovery: {}", what);
            for (SegmentFile done : List.copyOf(kept.values())) {
                drop(done, "holds only replayed records");
            }
            kept.clear();
            endIndex = committed;
        }
        deleteReplayedSegments(kept, committed);
        if (kept.isEmpty()) {
            storage.syncDirectory(dir); // the deletes before the create: no gap after a power cut
            SegmentFile fresh = SegmentFile.create(dir, endIndex, storage);
            kept.put(endIndex, fresh);
            activeSize = SegmentFile.HEADER_BYTES;
            readOffset = SegmentFile.HEADER_BYTES;
            pendingMessages = 0;
            pendingBytes = 0;
        }
        if (committed == endIndex) {
            readOffset = committed == kept.lastKey() ? SegmentFile.HEADER_BYTES : activeSize;
        }
        storage.syncDirectory(dir);
        CursorFile cursorFile = CursorFile.open(dir, storage, committed);
        return new State(kept, activeSize, endIndex, committed, readOffset, pendingMessages, pendingBytes,
                new RecoveryReport(List.copyOf(actions), bytesDropped, records), cursorFile);
    }

    private long readCommitted() {
        try {
            return CursorFile.read(dir, storage).orElse(-1);
        } catch (IOException e) {
            String what = e.getMessage() + ": replaying from the oldest record";
            actions.add(what);
            LOG.warn("Spill log recovery: {}", what);
            return -1; // the log writes it anew once the position is settled
        }
    }

    private static long firstIndex(NavigableMap<Long, SegmentFile> kept, long endIndex) {
        return kept.isEmpty() ? endIndex : kept.firstKey();
    }

    /** Only used when every kept record is pending: all bytes past each header. */
    private long sumRecordBytes(NavigableMap<Long, SegmentFile> kept, long activeSize) throws IOException {
        long sum = 0;
        for (SegmentFile s : kept.values()) {
            long size = s == kept.lastEntry().getValue() ? activeSize : sizeOf(s);
            sum += size - SegmentFile.HEADER_BYTES;
        }
        return sum;
    }

    private long sizeOf(SegmentFile s) throws IOException {
        try (FileChannel ch = storage.open(s.path(), StandardOpenOption.READ)) {
            return ch.size();
        }
    }

    private void deleteReplayedSegments(NavigableMap<Long, SegmentFile> kept, long committed) throws IOException {
        while (kept.size() > 1) {
            Long next = kept.higherKey(kept.firstKey());
            if (next == null || next > committed) {
                break;
            }
            storage.delete(kept.pollFirstEntry().getValue().path());
        }
    }

    private void drop(SegmentFile seg, String why) throws IOException {
        long size = sizeOf(seg);
        bytesDropped += size;
        storage.delete(seg.path());
        String what = "deleted " + seg.path() + " (" + size + " bytes): " + why;
        actions.add(what);
        LOG.warn("Spill log recovery {}", what);
    }

    private List<SegmentFile> listSegments() throws IOException {
        return storage.list(dir).stream().filter(p -> SegmentFile.parseBaseIndex(p) >= 0)
                .map(p -> new SegmentFile(p, SegmentFile.parseBaseIndex(p)))
                .sorted((a, b) -> Long.compare(a.baseIndex(), b.baseIndex()))
                .toList();
    }

    private void deleteTempFiles() throws IOException {
        for (Path p : storage.list(dir)) {
            if (p.getFileName().toString().endsWith(".tmp")) {
                storage.delete(p);
            }
        }
    }
}
