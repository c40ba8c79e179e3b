package dev.spillway.relay.spill;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded, append-only, crash-safe local log of messages that could not (yet) be written to
 * Redis. {@link #append} acknowledges a message only once it is fsync'd; a {@link ReplayCursor}
 * hands the messages back in order and commits them once they are safely in Redis.
 *
 * <h2>On-disk format (version 1)</h2>
 * A directory holds segment files named by the index of their first record
 * ({@code 00000000000000000000.seg}), a {@code cursor} file (see {@link CursorFile}) and
 * nothing else that matters ({@code *.tmp} files are leftovers of an interrupted create and are
 * deleted on open). Every number is big-endian.
 * <pre>
 * Segment header
 * offset size field
 *  0     4    magic "SPIL" (0x5350494C)
 *  4     2    format version (1)
 *  6     2    reserved (0)
 *  8     8    base index: the index of the segment's first record; equals the file name
 * 16     4    CRC32C of bytes 0..15
 *
 * Record (repeated to the end of the segment)
 * offset size field
 *  0     4    body length L (bytes after the CRC field; 27 + key + value)
 *  4     4    CRC32C of the L body bytes
 *  8     8    index: position in the log, exactly one more than the previous record's
 * 16     8    instance: the relay incarnation that assigned the message id
 * 24     8    sequence: the message id within that incarnation
 * 32     1    list op: 0 = RPUSH, 1 = LPUSH
 * 33     2    key length K (1..65535)
 * 35     K    key
 * 35+K   V    value (V = L - 27 - K)
 * </pre>
 *
 * <h2>Commit order</h2>
 * Records are written by one thread ({@link GroupCommitWriter}); after fsync the durable end
 * index is published and only then are appenders' futures completed. A segment is closed with
 * an fsync before the next one is created (temp file, fsync, atomic rename, directory fsync),
 * so a later segment never exists without every earlier record being durable. The replay
 * position is stored the same way (see {@link CursorFile}). On open, {@link LogRecovery} scans
 * every segment, truncates at the first record whose length, CRC or index does not check out,
 * and reports what it dropped.
 *
 * <h2>Bounds</h2>
 * The bytes of records appended but not yet committed never exceed {@code maxBytes}; an append
 * that would pass it fails at once with {@link SpillFullException}. Disk use can exceed it by
 * up to one segment of already-replayed records (the active segment is deleted only once a
 * newer one exists).
 *
 * <p>Thread-safe: any number of threads may append; one replayer uses the cursor.
 */
public final class SpillLog implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(SpillLog.class);

    private final SpillLogConfig config;
    private final ConcurrentSkipListMap<Long, SegmentFile> segments;
    private final GroupCommitWriter writer;
    private final Thread writerThread;
    private final ReplayCursor cursor;
    private final RecoveryReport recoveryReport;
    private final List<Runnable> spaceListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> durableListeners = new CopyOnWriteArrayList<>();
    private final Meter appends;
    private final Meter fullRejects;

    private final Object accountLock = new Object();
    private long pendingMessages; // guarded by accountLock
    private long pendingBytes; // guarded by accountLock
    private Throwable failure; // guarded by accountLock
    private boolean closed; // guarded by accountLock

    /** Records with an index below this are durable. Written only by the writer thread. */
    private volatile long durableEnd;

    private SpillLog(SpillLogConfig config, ChannelFactory channels, MetricRegistry metrics) throws IOException {
        this.config = config;
        LogRecovery.State state = new LogRecovery(config.directory(), config.maxRecordBytes(), channels).recover();
        this.recoveryReport = state.report();
        this.segments = new ConcurrentSkipListMap<>(state.segments());
        this.durableEnd = state.endIndex();
        this.pendingMessages = state.pendingMessages();
        this.pendingBytes = state.pendingBytes();
        this.cursor = new ReplayCursor(this, config, channels, state.committedIndex(), state.readOffset());
        this.writer = new GroupCommitWriter(this, config, channels, metrics, segments.lastEntry().getValue(),
                state.activeSize(), state.endIndex());
        this.appends = metrics.meter(MetricRegistry.name(SpillLog.class, "appends"));
        this.fullRejects = metrics.meter(MetricRegistry.name(SpillLog.class, "full-rejects"));
        metrics.register(MetricRegistry.name(SpillLog.class, "pending-messages"), (Gauge<Long>) this::pendingMessages);
        metrics.register(MetricRegistry.name(SpillLog.class, "pending-bytes"), (Gauge<Long>) this::pendingBytes);
        metrics.register(MetricRegistry.name(SpillLog.class, "segments"), (Gauge<Integer>) segments::size);
        this.writerThread = new Thread(writer, "spill-writer");
        writerThread.setDaemon(true);
        writerThread.start();
        LOG.info("Spill log {} open: {} pending messages ({} bytes) from index {}, {} segment(s){}",
                config.directory(), pendingMessages, pendingBytes, state.committedIndex(), segments.size(),
                recoveryReport.isClean() ? "" : "; recovery: " + recoveryReport.actions());
    }

    /** Opens (creating if needed) and recovers the log in {@code config.directory()}. */
    public static SpillLog open(SpillLogConfig config) throws IOException {
        return open(config, ChannelFactory.DEFAULT, new MetricRegistry());
    }

    public static SpillLog open(SpillLogConfig config, MetricRegistry metrics) throws IOException {
        return open(config, ChannelFactory.DEFAULT, metrics);
    }

    public static SpillLog open(SpillLogConfig config, ChannelFactory channels, MetricRegistry metrics)
            throws IOException {
        return new SpillLog(config, channels, metrics);
    }

    /**
     * Queues {@code message}; the future completes with the record's index once it is fsync'd,
     * or exceptionally with a {@link SpillException} if writing it failed. Callbacks on the
     * future run on the writer thread and must be quick.
     *
     * @throws SpillFullException at once when the message does not fit under {@code maxBytes}
     * @throws SpillException at once when the log is closed or unusable after an I/O failure
     */
    public CompletableFuture<Long> append(Message message) {
        return appendAll(List.of(message)).get(0);
    }

    /**
     * Queues {@code messages} as one request: either every one is queued, in order, or none is
     * (a request is never half spilled when the log fills). Each future completes as in
     * {@link #append}.
     *
     * @throws SpillFullException at once when the messages together do not fit under {@code maxBytes}
     * @throws SpillException at once when one is too large, or the log is closed or unusable
     */
    public List<CompletableFuture<Long>> appendAll(List<Message> messages) {
        List<GroupCommitWriter.Pending> pending = new ArrayList<>(messages.size());
        long total = 0;
        for (Message message : messages) {
            int size = RecordCodec.encodedSize(message);
            if (size > config.maxRecordBytes() || message.key().length > RecordCodec.MAX_KEY_BYTES) {
                throw new SpillException("message of " + size + " bytes (key " + message.key().length
                        + ") exceeds the spill record limit of " + config.maxRecordBytes() + " bytes (key 65535)");
            }
            pending.add(new GroupCommitWriter.Pending(message, size));
            total += size;
        }
        synchronized (accountLock) {
            if (failure != null) {
                throw new SpillException("spill log unusable after I/O failure: " + failure, failure);
            }
            if (closed) {
                throw new SpillException("spill log closed");
            }
            if (pendingBytes + total > config.maxBytes()) {
                fullRejects.mark();
                throw new SpillFullException(config.maxBytes(), pendingBytes, (int) Math.min(Integer.MAX_VALUE, total));
            }
            pendingBytes += total;
            pendingMessages += pending.size();
            for (GroupCommitWriter.Pending p : pending) {
                writer.enqueue(p);
            }
        }
        appends.mark(pending.size());
        List<CompletableFuture<Long>> futures = new ArrayList<>(pending.size());
        for (GroupCommitWriter.Pending p : pending) {
            futures.add(p.future);
        }
        return futures;
    }

    public ReplayCursor cursor() {
        return cursor;
    }

    /** Messages appended (accepted) and not yet committed by the replayer. */
    public long pendingMessages() {
        synchronized (accountLock) {
            return pendingMessages;
        }
    }

    /** Bytes of the messages counted by {@link #pendingMessages}. */
    public long pendingBytes() {
        synchronized (accountLock) {
            return pendingBytes;
        }
    }

    /** Index one past the last durable record. */
    public long durableEnd() {
        return durableEnd;
    }

    public int segmentCount() {
        return segments.size();
    }

    public SpillLogConfig config() {
        return config;
    }

    /** What open had to repair. */
    public RecoveryReport recoveryReport() {
        return recoveryReport;
    }

    /** True when the log refuses appends after an I/O failure it could not repair. */
    public boolean isFailed() {
        synchronized (accountLock) {
            return failure != null;
        }
    }

    /**
     * Registers a callback run (on the committing thread) whenever a commit frees room; a
     * callback that throws is logged and does not affect the commit or other callbacks.
     */
    public void addSpaceListener(Runnable listener) {
        spaceListeners.add(listener);
    }

    /**
     * Registers a callback run on the writer thread after each fsync that made records durable;
     * it must be quick (signal a waiting thread, nothing more).
     */
    public void addDurableListener(Runnable listener) {
        durableListeners.add(listener);
    }

    /** Syncs what is queued, stops the writer and releases files. Appends fail afterwards. */
    @Override
    public void close() throws IOException {
        synchronized (accountLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        writer.close();
        try {
            writerThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while closing the spill log", e);
        }
        cursor.close();
    }

    // ---- callbacks from the writer and the cursor ----

    void published(long newDurableEnd) {
        durableEnd = newDurableEnd;
        notifyAll(durableListeners, "durable");
    }

    void segmentAdded(SegmentFile segment) {
        segments.put(segment.baseIndex(), segment);
    }

    Map.Entry<Long, SegmentFile> segmentContaining(long index) {
        return segments.floorEntry(index);
    }

    void released(long messages, long bytes) {
        if (messages == 0) {
            return;
        }
        synchronized (accountLock) {
            pendingMessages -= messages;
            pendingBytes -= bytes;
        }
        notifyAll(spaceListeners, "space");
    }

    void failed(Throwable cause) {
        synchronized (accountLock) {
            if (failure == null) {
                failure = cause;
            }
        }
    }

    void committed(long committedIndex, long messages, long bytes) throws IOException {
        // Delete segments whose every record lies below the commit; the last one stays active.
        while (segments.size() > 1) {
            Map.Entry<Long, SegmentFile> first = segments.firstEntry();
            Long next = segments.higherKey(first.getKey());
            if (next == null || next > committedIndex) {
                break;
            }
            Files.deleteIfExists(first.getValue().path());
            segments.remove(first.getKey());
        }
        released(messages, bytes);
    }

    private static void notifyAll(List<Runnable> listeners, String what) {
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException e) {
                LOG.warn("Spill {} listener {} failed", what, listener, e);
            }
        }
    }
}
