package dev.spillway.relay.spill;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.spillway.relay.metrics.BucketTimer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spill log's single writer thread: takes queued requests in order, writes their records
 * to the active segment in large writes, and fsyncs on one of four triggers (queue empty,
 * unsynced bytes, max wait, segment roll), each counted. Appenders' futures complete only after
 * the fsync that covers their record, so concurrent appenders share one fsync (group commit).
 *
 * <p>A request is one unit: its records go to one segment (a roll happens before a request,
 * never inside one), fsyncs happen only between requests, and every record of a request but
 * its last carries a mark, so that recovery cuts a request that a crash left half on disk.
 *
 * <p>Commit order: write → fsync → publish the durable position (end index, and the durable
 * size of the active segment) → complete futures. A failed write or fsync fails every request
 * not yet durable (queued ones too, so none is acknowledged ahead of a refused one), truncates
 * the segment back to its last durable byte and carries on; if even that fails, the writer stops and the log refuses appends until reopened. A write that fails
 * because the disk is full puts the log in its disk-full state (see {@link SpillLog}); while
 * in it the writer tries every {@value #DISK_FULL_RETRY_MILLIS} ms, and whenever the replayer
 * frees room, to win space back.
 *
 * <p>Appenders hand it requests through a {@link RequestQueue}; everything here runs on the
 * writer thread.
 */
final class GroupCommitWriter implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitWriter.class);
    static final long DISK_FULL_RETRY_MILLIS = 200;

    private final SpillLog log;
    private final SpillLogConfig config;
    private final SpillStorage storage;

    private final RequestQueue requests;

    // Owned by the writer thread.
    private SegmentFile active;
    private FileChannel channel;
    private long writtenSize;
    private long syncedSize;
    private long nextIndex;
    private final ByteBuffer buffer;
    private final List<PendingRecord> unsynced = new ArrayList<>();
    private long unsyncedBytes;
    private long firstUnsyncedNanos;
    private boolean stopped;

    private final Timer fsyncTimer;
    private final Histogram recordsPerFsync;
    private final Counter[] triggerCounters = new Counter[FlushTrigger.values().length];
    private final Counter writeFailures;

    GroupCommitWriter(SpillLog log, RequestQueue requests, SpillLogConfig config, SpillStorage storage,
            MetricRegistry metrics, SegmentFile active, long activeSize, long nextIndex) throws IOException {
        this.log = log;
        this.requests = requests;
        this.config = config;
        this.storage = storage;
        this.active = active;
        this.channel = storage.open(active.path(), StandardOpenOption.WRITE);
        this.writtenSize = activeSize;
        this.syncedSize = activeSize;
        this.nextIndex = nextIndex;
        this.buffer = ByteBuffer.allocateDirect(config.writeBufferBytes());
        this.fsyncTimer = metrics.timer(MetricRegistry.name(SpillLog.class, "fsync"), BucketTimer::latency);
        this.recordsPerFsync = metrics.histogram(MetricRegistry.name(SpillLog.class, "records-per-fsync"));
        for (FlushTrigger t : FlushTrigger.values()) {
            triggerCounters[t.ordinal()] = metrics.counter(MetricRegistry.name(SpillLog.class, "flush", t.metric));
        }
        this.writeFailures = metrics.counter(MetricRegistry.name(SpillLog.class, "write-failures"));
    }

    /** The durable position the log starts from. */
    DurablePosition initialDurable() {
        return new DurablePosition(nextIndex, active.baseIndex(), syncedSize);
    }

    @Override
    public void run() {
        ArrayDeque<PendingRecord> taken = new ArrayDeque<>();
        try {
            while (true) {
                ArrayDeque<PendingRecord> t = requests.take(taken, log.isDiskFull() ? DISK_FULL_RETRY_MILLIS : 0);
                if (t == null) {
                    break;
                }
                taken = t;
                if (!taken.isEmpty()) {
                    writeAll(taken);
                    if (!unsynced.isEmpty()) {
                        FlushTrigger trigger = flushTrigger();
                        if (trigger != null) {
                            flushOrRecover(trigger);
                        }
                    }
                } else if (log.isDiskFull()) {
                    winSpaceBack();
                }
            }
            if (!unsynced.isEmpty()) {
                flushOrRecover(FlushTrigger.QUEUE_EMPTY);
            }
        } catch (WriterStopped stopped) {
            fatal(stopped.getCause(), List.of(), taken); // fails what is left of the requests taken
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fatal(new IOException("spill writer interrupted", e), List.of(), taken);
        } catch (Throwable t) {
            fatal(t, List.of(), taken);
        } finally {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.warn("Closing {} failed", active, e);
            }
        }
    }

    private FlushTrigger flushTrigger() {
        if (requests.isEmpty()) {
            return FlushTrigger.QUEUE_EMPTY;
        }
        if (unsyncedBytes >= config.flushBytes()) {
            return FlushTrigger.BYTES;
        }
        if (System.nanoTime() - firstUnsyncedNanos >= config.flushMaxWait().toNanos()) {
            return FlushTrigger.MAX_WAIT;
        }
        return null;
    }

    private void writeAll(ArrayDeque<PendingRecord> taken) {
        try {
            PendingRecord p;
            while ((p = taken.peek()) != null) {
                long used = writtenSize + buffer.position();
                if (p.requestBytes > 0 && used + p.requestBytes > config.segmentBytes()
                        && used > SegmentFile.HEADER_BYTES) {
                    roll(); // before the request: a request never spans two segments
                }
                if (buffer.remaining() < p.size) {
                    drainBuffer();
                }
                taken.poll();
                if (unsynced.isEmpty()) {
                    firstUnsyncedNanos = System.nanoTime();
                }
                unsynced.add(p);
                unsyncedBytes += p.size;
                p.index = nextIndex++;
                if (p.size <= buffer.capacity()) {
                    RecordCodec.encode(p.index, p.message, !p.last, buffer);
                } else {
                    ByteBuffer big = ByteBuffer.allocate(p.size);
                    RecordCodec.encode(p.index, p.message, !p.last, big);
                    writeFully(big.flip());
                }
            }
            drainBuffer();
        } catch (IOException | RuntimeException e) {
            recoverFromWriteFailure(e, taken);
        }
    }

    private void drainBuffer() throws IOException {
        buffer.flip();
        writeFully(buffer);
        buffer.clear();
    }

    private void writeFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            writtenSize += channel.write(b, writtenSize);
        }
    }

    private void flushOrRecover(FlushTrigger trigger) {
        try {
            flush(trigger);
        } catch (IOException | RuntimeException e) {
            recoverFromWriteFailure(e, new ArrayDeque<>());
        }
    }

    /** Fsyncs what is written, then publishes it and acknowledges its appends. Called between requests only. */
    private void flush(FlushTrigger trigger) throws IOException {
        try (Timer.Context ignored = fsyncTimer.time()) {
            channel.force(false);
        }
        triggerCounters[trigger.ordinal()].inc();
        recordsPerFsync.update(unsynced.size());
        syncedSize = writtenSize;
        log.published(new DurablePosition(nextIndex, active.baseIndex(), syncedSize));
        for (PendingRecord p : unsynced) {
            p.future.complete(p.index);
        }
        unsynced.clear();
        unsyncedBytes = 0;
    }

    /**
     * Closes the full segment (synced, so later segments only ever follow durable ones) and
     * starts the next. If the new segment cannot be made, nothing of it stays on disk and the
     * writer goes on in the old one; if that cannot be ensured, the writer stops.
     */
    private void roll() throws IOException {
        drainBuffer();
        if (!unsynced.isEmpty()) {
            flush(FlushTrigger.ROLL);
        }
        SegmentFile next;
        try {
            next = SegmentFile.create(config.directory(), nextIndex, storage);
        } catch (SegmentFile.UncleanCreateException e) {
            fatal(e, List.of(), List.of());
            throw new WriterStopped(e);
        }
        FileChannel nextChannel;
        try {
            nextChannel = storage.open(next.path(), StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            try {
                storage.delete(next.path());
                storage.syncDirectory(config.directory());
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
                fatal(e, List.of(), List.of());
                throw new WriterStopped(e);
            }
            throw e;
        }
        FileChannel old = channel;
        active = next;
        channel = nextChannel;
        writtenSize = SegmentFile.HEADER_BYTES;
        syncedSize = SegmentFile.HEADER_BYTES;
        log.segmentAdded(next);
        log.published(new DurablePosition(nextIndex, next.baseIndex(), syncedSize));
        old.close();
    }

    /**
     * Fails every request not yet durable (none was acknowledged) and cuts the segment back to
     * its last durable byte so that the log stays a clean prefix. Stops the writer when even
     * that fails.
     */
    private void recoverFromWriteFailure(Throwable cause, ArrayDeque<PendingRecord> notWritten) {
        if (cause instanceof WriterStopped stopped) {
            throw stopped;
        }
        writeFailures.inc();
        boolean diskFull = log.space().isNoSpace(cause);
        if (diskFull) {
            log.space().enterDiskFull(cause); // at once: no append may take the room meanwhile
        }
        List<PendingRecord> written = new ArrayList<>(unsynced); // on disk in whole or part, not durable
        List<PendingRecord> unwritten = new ArrayList<>(notWritten);
        notWritten.clear();
        // and every request queued behind them: none may be acknowledged ahead of a refused one
        // (its producer would re-send that one after it, out of order)
        requests.drainTo(unwritten, false);
        unsynced.clear();
        unsyncedBytes = 0;
        buffer.clear();
        LOG.error("Spill write to {} failed{}; refusing {} unacknowledged records", active,
                diskFull ? " (disk full)" : "", written.size() + unwritten.size(), cause);
        // Settle the log's state before anyone hears of the failure: cut back to the last
        // durable byte, or stop if even that fails.
        try {
            channel.truncate(syncedSize);
            channel.force(true);
            writtenSize = syncedSize;
            nextIndex = log.durableEnd();
        } catch (IOException | RuntimeException e) {
            e.addSuppressed(cause);
            fatal(e, written, unwritten);
            throw new WriterStopped(e);
        }
        SpillException error = diskFull ? new SpillDiskFullException(config.directory(), cause)
                : new SpillException("spill log write failed: " + cause, cause);
        written.addAll(unwritten);
        log.released(written.size(), written.stream().mapToLong(p -> p.size).sum());
        for (PendingRecord p : written) {
            p.future.completeExceptionally(error);
        }
    }

    /**
     * In the disk-full state with nothing to write: when every record is replayed, start a fresh
     * segment so that the replayed one can be deleted (the room for it is the reserve the log
     * gave up on entering the state); then ask the log whether there is room enough to leave
     * the state.
     */
    private void winSpaceBack() {
        if (log.committedIndex() >= nextIndex && writtenSize > SegmentFile.HEADER_BYTES) {
            try {
                roll();
                log.deleteReplayedSegments();
            } catch (WriterStopped stopped) {
                throw stopped;
            } catch (IOException | RuntimeException e) {
                LOG.debug("No room yet for a fresh spill segment: {}", e.toString());
            }
        }
        log.space().tryLeaveDiskFull();
    }

    /**
     * Stops the writer for good. Records that were written (in whole or part) and could not be
     * cut off again may still be on disk and be replayed after a reopen: their appends fail
     * with {@link SpillOutcomeUnknownException}, not as refusals; the rest are refused.
     */
    private void fatal(Throwable cause, Collection<PendingRecord> written, Collection<PendingRecord> unwritten) {
        if (!stopped) {
            stopped = true;
            LOG.error("Spill log writer stopped; the log refuses appends until reopened", cause);
            log.failed(cause);
        }
        List<PendingRecord> unknown = new ArrayList<>(written);
        unknown.addAll(unsynced);
        unsynced.clear();
        List<PendingRecord> refused = new ArrayList<>(unwritten);
        requests.drainTo(refused, true);
        log.released(unknown.size() + refused.size(), unknown.stream().mapToLong(p -> p.size).sum()
                + refused.stream().mapToLong(p -> p.size).sum());
        SpillException outcomeUnknown = new SpillOutcomeUnknownException(cause);
        for (PendingRecord p : unknown) {
            p.future.completeExceptionally(outcomeUnknown);
        }
        SpillException error = new SpillException("spill log unusable: " + cause, cause);
        for (PendingRecord p : refused) {
            p.future.completeExceptionally(error);
        }
    }
}
