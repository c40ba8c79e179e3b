package dev.spillway.relay.spill;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
 * ({@code 00000000000000000000.seg}), a {@code cursor} file (see {@link CursorFile}), a
 * {@code lock} file (see {@link DirectoryLock}), a {@code reserve} file (see below) and nothing
 * else that matters ({@code *.tmp} files are leftovers of an interrupted create and are deleted
 * on open). Every number is big-endian.
 * <pre>
 * Segment header
 * offset size field
 *  0     4    magic "SPIL" (0x5350494C)
 *  4     2    format version (2; version 1 segments are read too)
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
 * 32     1    list op: 0 = RPUSH, 1 = LPUSH; bit 0x80 set on every record of a request but its
 *             last (version 2), so recovery can cut a request a crash left half written
 * 33     2    key length K (1..65535)
 * 35     K    key
 * 35+K   V    value (V = L - 27 - K)
 * </pre>
 *
 * <h2>Commit order</h2>
 * Records are written by one thread ({@link GroupCommitWriter}), a request at a time and never
 * split over two fsyncs or two segments; after fsync the durable position is published and
 * only then are appenders' futures completed. The replay cursor never reads a byte past the
 * published position, so it never holds data that a failed fsync may take back. A segment is closed with
 * an fsync before the next one is created (temp file, fsync, atomic rename, directory fsync),
 * so a later segment never exists without every earlier record being durable. The replay
 * position is stored the same way (see {@link CursorFile}). On open, {@link LogRecovery} scans
 * every segment, truncates at the first record whose length, CRC or index does not check out
 * (and at the start of a request it finds incomplete), and reports what it dropped.
 *
 * <h2>A full disk</h2>
 * At open the log writes {@code reserve} ({@link SpillLogConfig#reserveBytes} bytes). When a
 * write finds the disk full, the log enters its disk-full state: it deletes the reserve, fails
 * the requests that were not yet durable and refuses new appends at once with
 * {@link SpillDiskFullException}. Replay goes on: committing the cursor overwrites it in place
 * (no new block), replayed segments are deleted, and once everything is replayed the writer
 * starts a fresh segment (in the reserve's room) so that the last one can go too. The log leaves
 * the state when it could write the reserve again and as much room again is free.
 *
 * <h2>Bounds</h2>
 * The bytes of records appended but not yet committed never exceed {@code maxBytes}; an append
 * that would pass it fails at once with {@link SpillFullException}. Disk use can exceed it by
 * up to one segment of already-replayed records (the active segment is deleted only once a
 * newer one exists).
 *
 * <p>One process at a time: the directory is locked ({@link DirectoryLock}) from open to close.
 *
 * <p>Thread-safe: any number of threads may append; one replayer uses the cursor.
 */
public final class SpillLog implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(SpillLog.class);
    static final String RESERVE = "reserve";

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
    private final Meter diskFullRejects;
    private final SpillStorage storage;
    private final DirectoryLock lock;
    private final Object segmentsLock = new Object();

    private final Object accountLock = new Object();
    private long pendingMessages; // guarded by accountLock
    private long pendingBytes; // guarded by accountLock
    private Throwable failure; // guarded by accountLock
    private boolean closed; // guarded by accountLock

    /** What is durable: written only by the writer thread (and the constructor). */
    private volatile GroupCommitWriter.Durable durable;
    /** Set and cleared by the writer thread (and the constructor). */
    private volatile boolean diskFull;

    private SpillLog(SpillLogConfig config, SpillStorage storage, MetricRegistry metrics) throws IOException {
        this.config = config;
        this.storage = storage;
        storage.createDirectories(config.directory());
        this.lock = DirectoryLock.acquire(config.directory(), storage);
        CursorFile cursorFile = null;
        GroupCommitWriter w = null;
        try {
            LogRecovery.State state;
            try {
                state = new LogRecovery(config.directory(), config.maxRecordBytes(), storage).recover();
                cursorFile = CursorFile.open(config.directory(), storage, state.committedIndex());
            } catch (IOException e) {
                if (!mentionsNoSpace(e) || !storage.delete(reservePath())) {
                    throw e;
                }
                // The disk is full and recovery needs a little room (a fresh segment, a cursor
                // file written anew): give up the reserve and recover again (recovery is idempotent)
                LOG.warn("Spill disk full while recovering ({}): reserve given up, recovering again", e.getMessage());
                state = new LogRecovery(config.directory(), config.maxRecordBytes(), storage).recover();
                cursorFile = CursorFile.open(config.directory(), storage, state.committedIndex());
            }
            this.recoveryReport = state.report();
            this.segments = new ConcurrentSkipListMap<>(state.segments());
            this.pendingMessages = state.pendingMessages();
            this.pendingBytes = state.pendingBytes();
            this.cursor = new ReplayCursor(this, config, storage, cursorFile, state.committedIndex(),
                    state.readOffset());
            w = new GroupCommitWriter(this, config, storage, metrics, segments.lastEntry().getValue(),
                    state.activeSize(), state.endIndex());
            this.writer = w;
            this.durable = w.initialDurable();
            takeReserve();
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
        metrics.register(MetricRegistry.name(SpillLog.class, "segments"), (Gauge<Integer>) segments::size);
        metrics.register(MetricRegistry.name(SpillLog.class, "disk-full"), (Gauge<Integer>) () -> diskFull ? 1 : 0);
        this.writerThread = new Thread(writer, "spill-writer");
        writerThread.setDaemon(true);
        writerThread.start();
        LOG.info("Spill log {} open: {} pending messages ({} bytes) from index {}, {} segment(s){}{}",
                config.directory(), pendingMessages, pendingBytes, cursor.committedIndex(), segments.size(),
                recoveryReport.isClean() ? "" : "; recovery: " + recoveryReport.actions(),
                diskFull ? "; DISK FULL: appends refused until there is room" : "");
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
        long total = 0;
        int[] sizes = new int[messages.size()];
        for (int i = 0; i < sizes.length; i++) {
            Message message = messages.get(i);
            int size = RecordCodec.encodedSize(message);
            if (size > config.maxRecordBytes() || message.key().length > RecordCodec.MAX_KEY_BYTES) {
                throw new SpillException("message of " + size + " bytes (key " + message.key().length
                        + ") exceeds the spill record limit of " + config.maxRecordBytes() + " bytes (key 65535)");
            }
            sizes[i] = size;
            total += size;
        }
        if (total > config.segmentBytes() - SegmentFile.HEADER_BYTES) {
            throw new SpillException("request of " + messages.size() + " messages (" + total
                    + " bytes in the spill) exceeds one spill segment (spill.segmentBytes " + config.segmentBytes() + ")");
        }
        List<GroupCommitWriter.Pending> pending = new ArrayList<>(messages.size());
        for (int i = 0; i < sizes.length; i++) {
            pending.add(new GroupCommitWriter.Pending(messages.get(i), sizes[i], i == 0 ? total : 0,
                    i == sizes.length - 1));
        }
        synchronized (accountLock) {
            if (failure != null) {
                throw new SpillException("spill log unusable after I/O failure: " + failure, failure);
            }
            if (closed) {
                throw new SpillException("spill log closed");
            }
            if (diskFull) {
                diskFullRejects.mark();
                throw new SpillDiskFullException(config.directory(), null);
            }
            if (pendingBytes + total > config.maxBytes()) {
                fullRejects.mark();
                throw new SpillFullException(config.maxBytes(), pendingBytes, (int) Math.min(Integer.MAX_VALUE, total));
            }
            writer.enqueue(pending);
            pendingBytes += total;
            pendingMessages += pending.size();
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
        return durable.endIndex();
    }

    /** True while the disk holding the log is full: appends are refused, replay goes on. */
    public boolean isDiskFull() {
        return diskFull;
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
        try {
            cursor.close();
        } finally {
            lock.close();
        }
    }

    // ---- callbacks from the writer and the cursor ----

    void published(GroupCommitWriter.Durable newDurable) {
        boolean more = newDurable.endIndex() > durable.endIndex();
        durable = newDurable;
        if (more) {
            notifyAll(durableListeners, "durable");
        }
    }

    GroupCommitWriter.Durable durable() {
        return durable;
    }

    long committedIndex() {
        return cursor.committedIndex();
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

    void committed(long messages, long bytes) {
        released(messages, bytes);
        try {
            deleteReplayedSegments();
        } catch (IOException | RuntimeException e) {
            // the records are replayed and the position durable; the next commit tries again
            LOG.warn("Deleting replayed spill segments failed (tried again at the next commit)", e);
        }
        if (diskFull) {
            writer.wake();
        }
    }

    /** Deletes segments whose every record lies below the commit; the last one stays active. */
    void deleteReplayedSegments() throws IOException {
        synchronized (segmentsLock) {
            long committedIndex = cursor.committedIndex();
            while (segments.size() > 1) {
                Map.Entry<Long, SegmentFile> first = segments.firstEntry();
                Long next = segments.higherKey(first.getKey());
                if (next == null || next > committedIndex) {
                    break;
                }
                storage.delete(first.getValue().path());
                segments.remove(first.getKey());
            }
        }
    }

    // ---- the disk-full state ----

    /**
     * True when a failed write means the disk is full: the error says so (ENOSPC, EDQUOT), or —
     * whatever language the error is in — the file system has less than 64 KiB left.
     */
    boolean isNoSpace(Throwable t) {
        if (mentionsNoSpace(t)) {
            return true;
        }
        try {
            return storage.usableSpace(config.directory()) < 64 * 1024;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** True when {@code t} (or a cause) is the file system saying it has no room. */
    static boolean mentionsNoSpace(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return true;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }

    /** Writer thread: a write found the disk full. Gives up the reserve so the log can drain. */
    void enterDiskFull(Throwable cause) {
        if (!diskFull) {
            diskFull = true;
            LOG.warn("Spill disk full ({}): refusing appends; replay goes on; {} bytes of reserve given up",
                    cause.getMessage(), config.reserveBytes());
        }
        try {
            storage.delete(reservePath());
        } catch (IOException | RuntimeException e) {
            LOG.warn("Could not delete the spill reserve {}", reservePath(), e);
        }
    }

    /** Writer thread, in the disk-full state: takes appends again if the reserve fits and as much room is left. */
    void tryLeaveDiskFull() {
        try {
            if (storage.usableSpace(config.directory()) < 2 * config.reserveBytes()) {
                return;
            }
            takeReserve();
        } catch (IOException | RuntimeException e) {
            LOG.debug("Spill disk still full: {}", e.toString());
            return;
        }
        if (!diskFull) {
            LOG.info("Spill disk has room again: taking appends");
        }
    }

    private Path reservePath() {
        return config.directory().resolve(RESERVE);
    }

    /**
     * Makes sure the reserve file exists at full size; on a full disk, removes what it wrote,
     * sets the disk-full state and returns.
     */
    private void takeReserve() throws IOException {
        Path path = reservePath();
        long size = config.reserveBytes();
        try {
            try (FileChannel ch = storage.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                if (ch.size() != size) {
                    ch.truncate(0);
                    ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(size, 64 * 1024));
                    for (long written = 0; written < size; ) {
                        zeros.clear().limit((int) Math.min(zeros.capacity(), size - written));
                        while (zeros.hasRemaining()) {
                            written += ch.write(zeros, written);
                        }
                    }
                    ch.force(true);
                    storage.syncDirectory(config.directory());
                }
            }
            diskFull = false;
        } catch (IOException e) {
            if (!isNoSpace(e)) {
                throw e;
            }
            try {
                storage.delete(path);
            } catch (IOException | RuntimeException ignored) {
                // best effort: the room it held is what the log needs
            }
            if (!diskFull) {
                diskFull = true;
                LOG.warn("Spill disk full at open ({}): refusing appends until there is room", e.getMessage());
            }
        }
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
