package dev.spillway.relay.spill;

import java.io.IOException;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The log's segment files by base index: the writer adds one at each roll, the replay cursor
 * looks up the one holding a record, and commits delete those holding only replayed records.
 *
 * <p>Thread-safe: lookups run concurrently with adds; deletes are serialised.
 */
final class Segments {

    private final ConcurrentSkipListMap<Long, SegmentFile> byBase;
    private final SpillStorage storage;
    private final Object deleteLock = new Object();

    Segments(NavigableMap<Long, SegmentFile> recovered, SpillStorage storage) {
        this.byBase = new ConcurrentSkipListMap<>(recovered);
        this.storage = storage;
    }

    void add(SegmentFile segment) {
        byBase.put(segment.baseIndex(), segment);
    }

    /** The segment holding record {@code index}, or null when none could. */
    SegmentFile containing(long index) {
        Map.Entry<Long, SegmentFile> e = byBase.floorEntry(index);
        return e == null ? null : e.getValue();
    }

    SegmentFile last() {
        return byBase.lastEntry().getValue();
    }

    int size() {
        return byBase.size();
    }

    /** Deletes segments whose every record lies below {@code committedIndex}; the last one stays. */
    void deleteBelow(long committedIndex) throws IOException {
        synchronized (deleteLock) {
            while (byBase.size() > 1) {
                Map.Entry<Long, SegmentFile> first = byBase.firstEntry();
                Long next = byBase.higherKey(first.getKey());
                if (next == null || next > committedIndex) {
                    break;
                }
                storage.delete(first.getValue().path());
                byBase.remove(first.getKey());
            }
        }
    }
}
