package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.stream.Stream;
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

    /** The state the log starts from. */
    record State(NavigableMap<Long, SegmentFile> segments, long activeSize, long endIndex, long committedIndex,
            long readOffset, long pendingMessages, long pendingBytes, RecoveryReport report) {}

    private final Path dir;
    private final int maxRecordBytes;
    private final ChannelFactory channels;
    private final List<String> actions = new ArrayList<>();
    private long bytesDropped;

    LogRecovery(Path dir, int maxRecordBytes, ChannelFactory channels) {
        this.dir = dir;
        this.maxRecordBytes = maxRecordBytes;
        this.channels = channels;
    }

    State recover() throws IOException {
        Files.createDirectories(dir);
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
            if (damaged) {
                drop(seg, "follows damage earlier in the log");
                continue;
            }
            if (expectedBase >= 0 && seg.baseIndex() != expectedBase) {
                drop(seg, "starts at index " + seg.baseIndex() + " but the log ends at " + expectedBase);
                damaged = true;
                continue;
            }
            try (FileChannel ch = channels.open(seg.path(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long size = ch.size();
                ByteBuffer header = ByteBuffer.allocate(SegmentFile.HEADER_BYTES);
                ch.read(header, 0);
                if (!SegmentFile.validHeader(header.flip(), seg.baseIndex())) {
                    drop(seg, "has no valid header (" + size + " bytes)");
                    damaged = true;
                    continue;
                }
                SegmentScanner scan = new SegmentScanner(ch, SegmentFile.HEADER_BYTES, seg.baseIndex(),
                        maxRecordBytes, SCAN_CHUNK_BYTES);
                while (true) {
                    if (scan.expectedIndex() == committed) {
                        readOffset = scan.offset();
                    }
                    if (scan.next() != RecordCodec.Check.VALID) {
                        break;
                    }
                    boolean pending = scan.expectedIndex() >= committed;
                    int recordSize = scan.skip();
                    records++;
                    if (pending) {
                        pendingMessages++;
                        pendingBytes += recordSize;
                    }
                }
                long validEnd = scan.offset();
                if (validEnd < size) {
                    ch.truncate(validEnd);
                    ch.force(true);
                    bytesDropped += size - validEnd;
                    String what = "truncated " + seg.path() + " at offset " + validEnd + ": dropped "
                            + (size - validEnd) + " bytes after index " + (scan.expectedIndex() - 1);
                    actions.add(what);
                    LOG.warn("Spill log recovery {}", what);
                    damaged = true;
                }
                kept.put(seg.baseIndex(), seg);
                expectedBase = scan.expectedIndex();
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
            String what = "cursor at index " + committed + " is past the log's end " + endIndex
                    + "; new records start at " + committed;
            actions.add(what);
            LOG.warn("Spill log recovery: {}", what);
            endIndex = committed;
        }
        deleteReplayedSegments(kept, committed);
        if (kept.isEmpty() || endIndex != expectedBase) {
            SegmentFile fresh = SegmentFile.create(dir, endIndex, channels);
            kept.put(endIndex, fresh);
            activeSize = SegmentFile.HEADER_BYTES;
            readOffset = SegmentFile.HEADER_BYTES;
            pendingMessages = 0;
            pendingBytes = 0;
        }
        if (committed == endIndex) {
            readOffset = committed == kept.lastKey() ? SegmentFile.HEADER_BYTES : activeSize;
        }
        if (!Files.exists(dir.resolve(CursorFile.NAME))) {
            CursorFile.write(dir, committed, channels);
        }
        return new State(kept, activeSize, endIndex, committed, readOffset, pendingMessages, pendingBytes,
                new RecoveryReport(List.copyOf(actions), bytesDropped, records));
    }

    private long readCommitted() {
        try {
            return CursorFile.read(dir).orElse(-1);
        } catch (IOException e) {
            String what = e.getMessage() + ": replaying from the oldest record";
            actions.add(what);
            LOG.warn("Spill log recovery: {}", what);
            try {
                Files.delete(dir.resolve(CursorFile.NAME));
            } catch (IOException ignored) {
                // rewritten below in any case
            }
            return -1;
        }
    }

    private static long firstIndex(NavigableMap<Long, SegmentFile> kept, long endIndex) {
        return kept.isEmpty() ? endIndex : kept.firstKey();
    }

    /** Only used when every kept record is pending: all bytes past each header. */
    private static long sumRecordBytes(NavigableMap<Long, SegmentFile> kept, long activeSize) throws IOException {
        long sum = 0;
        for (SegmentFile s : kept.values()) {
            long size = s == kept.lastEntry().getValue() ? activeSize : Files.size(s.path());
            sum += size - SegmentFile.HEADER_BYTES;
        }
        return sum;
    }

    private void deleteReplayedSegments(NavigableMap<Long, SegmentFile> kept, long committed) throws IOException {
        while (kept.size() > 1) {
            Long next = kept.higherKey(kept.firstKey());
            if (next == null || next > committed) {
                break;
            }
            Files.deleteIfExists(kept.pollFirstEntry().getValue().path());
        }
    }

    private void drop(SegmentFile seg, String why) throws IOException {
        long size = Files.size(seg.path());
        bytesDropped += size;
        Files.delete(seg.path());
        String what = "deleted " + seg.path() + " (" + size + " bytes): " + why;
        actions.add(what);
        LOG.warn("Spill log recovery {}", what);
    }

    private List<SegmentFile> listSegments() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> SegmentFile.parseBaseIndex(p) >= 0)
                    .map(p -> new SegmentFile(p, SegmentFile.parseBaseIndex(p)))
                    .sorted((a, b) -> Long.compare(a.baseIndex(), b.baseIndex()))
                    .toList();
        }
    }

    private void deleteTempFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList()) {
                Files.delete(p);
            }
        }
    }
}
