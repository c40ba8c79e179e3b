package dev.spillway.relay.spill;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded, append-only, crash-safe local log of messages that could not (yet) be written to
 * Redis. {@link #append} acknowledges a message only once it is fsync'd; a {@link ReplayCursor}
 * hands the messages back in order and commits them once they are safely in Redis.
 *
 * <p>The on-disk format, how appends become durable, how a full disk drains and the bounds are
 * documented on the package ({@code package-info.java}).
 *
 * <p>One process at a time: the directory is locked ({@link DirectoryLock}) from open to close.
 *
 * <p>Thread-safe: any number of threads may append; one replayer uses the cursor.
 */
public final class SpillLog implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(SpillLog.class);
    static final String RESERVE = DiskSpace.RESERVE;

    private final SpillLogConfig config;
    private final Segments segments;
    private final GroupCommitWriter writer;
    private final RequestQueue requests = new RequestQueue();
    private final Thread writerThread;
    private final ReplayCursor cursor;
    private final RecoveryReport recoveryReport;
    private final List<Runnable> spaceListeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> durableListeners = new CopyOnWriteArrayList<>();
    private final Meter appends;
    private final Meter fullRejects;
    private final Meter diskFullRejects;
    private final SpillStorage storage;
    private final DirectoryLock lock;

    private final Object accountLock = new Object();
    private long pendingMessages; // guarded by accountLock
    private long pendingBytes; // guarded by accountLock
    private Throwable failure; // guarded by accountLock
    private boolean closed; // guarded by accountLock

    /** What is durable: written only by the writer thread (and the constructor). */
    private volatile DurablePosition durable;
    private final DiskSpace space;

    private SpillLog(SpillLogConfig config, SpillStorage storage, MetricRegistry metrics) throws IOException {
        this.config = config;
        this.storage = storage;
        this.space = new DiskSpace(config, storage);
        storage.createDirectories(config.directory());
        this.lock = DirectoryLock.acquire(config.directory(), storage);
        CursorFile cursorFile = null;
        GroupCommitWriter w = null;
        try {
            LogRecovery.State state = LogRecovery.recover(config, storage, space);
            cursorFile = state.cursorFile();
            this.recoveryReport = state.report();
            this.segments = new Segments(state.segments(), storage);
            this.pendingMessages = state.pendingMessages();
            this.pendingBytes = state.pendingBytes();
            this.cursor = new ReplayCursor(this, config, storage, cursorFile, state.committedIndex(),
                    state.readOffset());
            w = new GroupCommitWriter(this, requests, config, storage, metrics, segments.last(),
                    state.activeSize(), state.endIndex());
            this.writer = w;
            this.durable = w.initialDurable();
            space.takeReserve();
        } catch (IOException | RuntimeException e) {
            closeQuietly(cursorFile, e);
            closeQuietly(lock, e);
            throw e;
        }
        this.appends = metrics.meter(MetricRegistry.name(SpillLog.class, "appends"));
        this.fullRejects = metrics.meter(MetricRegistry.name(SpillLog.class, "full-rejects"));
        this.diskFullRejects = metrics.meter(MetricRegistry.name(SpillLog.class, "disk-full-rejects"));
        metrics.register(MetricRegistry.name(SpillLog.class, "pending-messages"), (Gauge<Long>) this::pendingMessages);
        metrics.register(MetricRegistry.name(SpillLog.class, "pending-bytes"), (Gauge<Long>) this::pendingBytes);
        metrics.register(MetricRegistry.name(SpillLog.class, "max-bytes"), (Gauge<Long>) config::maxBytes);
        metrics.register(MetricRegistry.name(SpillLog.class, "segments"), (Gauge<Integer>) segments::size);
        metrics.register(MetricRegistry.name(SpillLog.class, "disk-full"), (Gauge<Integer>) () -> space.isDiskFull() ? 1 : 0);
        this.writerThread = new Thread(writer, "spill-writer");
        writerThread.setDaemon(true);
        writerThread.start();
        LOG.info("Spill log {} open: {} pending messages ({} bytes) from index {}, {} segment(s){}{}",
                config.directory(), pendingMessages, pendingBytes, cursor.committedIndex(), segments.size(),
                recoveryReport.isClean() ? "" : "; recovery: " + recoveryReport.actions(),
                space.isDiskFull() ? "; DISK FULL: appends refused until there is room" : "");
    }

    private static void closeQuietly(Closeable c, Exception into) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException | RuntimeException e) {
                into.addSuppressed(e);
            }
        }
    }

    /** Opens (creating if needed) and recovers the log in {@code config.directory()}. */
    public static SpillLog open(SpillLogConfig config) throws IOException {
        return open(config, SpillStorage.DEFAULT, new MetricRegistry());
    }

    public static SpillLog open(SpillLogConfig config, MetricRegistry metrics) throws IOException {
        return open(config, SpillStorage.DEFAULT, metrics);
    }

    /**
     * Opens the log through {@code storage} (tests pass storage that fails or loses unsynced data).
     *
     * @throws SpillException when another process holds the directory
     */
    public static SpillLog open(SpillLogConfig config, SpillStorage storage, MetricRegistry metrics)
            throws IOException {
        return new SpillLog(config, storage, metrics);
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
     * @throws SpillDiskFullException at once while the disk is full
     * @throws SpillException at once when one is too large, or the log is closed or unusable
     */
    public List<CompletableFuture<Long>> appendAll(List<Message> messages) {
        if (messages.isEmpty()) {
            return List.of();
        }
        List<PendingRecord> pending = PendingRecord.request(messages, config);
        long total = pending.get(0).requestBytes;
        synchronized (accountLock) {
            if (failure != null) {
                throw new SpillException("spill log unusable after I/O failure: " + failure, failure);
            }
            if (closed) {
                throw new SpillException("spill log closed");
            }
            if (space.isDiskFull()) {
                diskFullRejects.mark();
                throw new SpillDiskFullException(config.directory(), null);
            }
            if (pendingBytes + total > config.maxBytes()) {
                fullRejects.mark();
                throw new SpillFullException(config.maxBytes(), pendingBytes, (int) Math.min(Integer.MAX_VALUE, total));
            }
            requests.enqueue(pending);
            pendingBytes += total;
            pendingMessages += pending.size();
        }
        appends.mark(pending.size());
        List<CompletableFuture<Long>> futures = new ArrayList<>(pending.size());
        for (PendingRecord p : pending) {
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
        return durable.endIndex();
    }

    /** True while the disk holding the log is full: appends are refused, replay goes on. */
    public boolean isDiskFull() {
        return space.isDiskFull();
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
        requests.close();
        try {
            writerThread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while closing the spill log", e);
        }
        try {
            cursor.close();
        } finally {
            lock.close();
        }
    }

    // ---- callbacks from the writer and the cursor ----

    void published(DurablePosition newDurable) {
        boolean more = newDurable.endIndex() > durable.endIndex();
        durable = newDurable;
        if (more) {
            notifyAll(durableListeners, "durable");
        }
    }

    DurablePosition durable() {
        return durable;
    }

    long committedIndex() {
        return cursor.committedIndex();
    }

    void segmentAdded(SegmentFile segment) {
        segments.add(segment);
    }

    SegmentFile segmentContaining(long index) {
        return segments.containing(index);
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

    void committed(long messages, long bytes) {
        released(messages, bytes);
        try {
            deleteReplayedSegments();
        } catch (IOException | RuntimeException e) {
            // the records are replayed and the position durable; the next commit tries again
            LOG.warn("Deleting replayed spill segments failed (tried again at the next commit)", e);
        }
        if (space.isDiskFull()) {
            requests.wake();
        }
    }

    /** Deletes segments whose every record lies below the commit; the last one stays active. */
    void deleteReplayedSegments() throws IOException {
        segments.deleteBelow(cursor.committedIndex());
    }

    DiskSpace space() {
        return space;
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
