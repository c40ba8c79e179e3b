package dev.spillway.relay.spill;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Histogram;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.spillway.relay.Message;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spill log's single writer thread: takes queued appends in order, writes them to the
 * active segment in large writes, and fsyncs on one of four triggers (queue empty, unsynced
 * bytes, max wait, segment roll), each counted. Appenders' futures complete only after the
 * fsync that covers their record, so concurrent appenders share one fsync (group commit).
 *
 * <p>Commit order: write → fsync → publish the durable end index → complete futures. A failed
 * write or fsync fails every record not yet durable, truncates the segment back to its last
 * durable byte and carries on; if even that fails, the log refuses further appends.
 *
 * <p>{@link #enqueue} is thread-safe; everything else runs on the writer thread.
 */
final class GroupCommitWriter implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(GroupCommitWriter.class);

    /** An append waiting for its fsync. */
    static final class Pending {
        final Message message;
        final int size;
        final CompletableFuture<Long> future = new CompletableFuture<>();
        long index;

        Pending(Message message, int size) {
            this.message = message;
            this.size = size;
        }
    }

    enum Trigger {
        QUEUE_EMPTY("queue-empty"), BYTES("bytes"), MAX_WAIT("max-wait"), ROLL("roll");

        final String metric;

        Trigger(String metric) {
            this.metric = metric;
        }
    }

    private final SpillLog log;
    private final SpillLogConfig config;
    private final ChannelFactory channels;

    private final Object queueLock = new Object();
    private ArrayDeque<Pending> queue = new ArrayDeque<>(); // guarded by queueLock
    private boolean closing; // guarded by queueLock

    // Owned by the writer thread.
    private SegmentFile active;
    private FileChannel channel;
    private long writtenSize;
    private long syncedSize;
    private long nextIndex;
    private final ByteBuffer buffer;
    private final List<Pending> unsynced = new ArrayList<>();
    private long unsyncedBytes;
    private long firstUnsyncedNanos;

    private final Timer fsyncTimer;
    private final Histogram recordsPerFsync;
    private final Counter[] triggerCounters = new Counter[Trigger.values().length];
    private final Counter writeFailures;

    GroupCommitWriter(SpillLog log, SpillLogConfig config, ChannelFactory channels, MetricRegistry metrics,
            SegmentFile active, long activeSize, long nextIndex) throws IOException {
        this.log = log;
        this.config = config;
        this.channels = channels;
        this.active = active;
        this.channel = channels.open(active.path(), StandardOpenOption.WRITE);
        this.writtenSize = activeSize;
        this.syncedSize = activeSize;
        this.nextIndex = nextIndex;
        this.buffer = ByteBuffer.allocateDirect(config.writeBufferBytes());
        this.fsyncTimer = metrics.timer(MetricRegistry.name(SpillLog.class, "fsync"));
        this.recordsPerFsync = metrics.histogram(MetricRegistry.name(SpillLog.class, "records-per-fsync"));
        for (Trigger t : Trigger.values()) {
            triggerCounters[t.ordinal()] = metrics.counter(MetricRegistry.name(SpillLog.class, "flush", t.metric));
        }
        this.writeFailures = metrics.counter(MetricRegistry.name(SpillLog.class, "write-failures"));
    }

    void enqueue(Pending p) {
        synchronized (queueLock) {
            if (closing) {
                throw new SpillException("spill log closed");
            }
            queue.add(p);
            if (queue.size() == 1) {
                queueLock.notifyAll();
            }
        }
    }

    /** Stops taking appends; the thread writes and syncs what is queued, then ends. */
    void close() {
        synchronized (queueLock) {
            closing = true;
            queueLock.notifyAll();
        }
    }

    @Override
    public void run() {
        ArrayDeque<Pending> taken = new ArrayDeque<>();
        try {
            while (true) {
                synchronized (queueLock) {
                    while (queue.isEmpty() && !closing) {
                        queueLock.wait();
                    }
                    if (queue.isEmpty()) {
                        break;
                    }
                    ArrayDeque<Pending> t = queue;
                    queue = taken;
                    taken = t;
                }
                writeAll(taken);
                if (!unsynced.isEmpty()) {
                    Trigger trigger = flushTrigger();
                    if (trigger != null) {
                        flush(trigger);
                    }
                }
            }
            if (!unsynced.isEmpty()) {
                flush(Trigger.QUEUE_EMPTY);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fatal(new IOException("spill writer interrupted", e));
        } catch (Throwable t) {
            fatal(t);
        } finally {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.warn("Closing {} failed", active, e);
            }
        }
    }

    private Trigger flushTrigger() {
        boolean queueEmpty;
        synchronized (queueLock) {
            queueEmpty = queue.isEmpty();
        }
        if (queueEmpty) {
            return Trigger.QUEUE_EMPTY;
        }
        if (unsyncedBytes >= config.flushBytes()) {
            return Trigger.BYTES;
        }
        if (System.nanoTime() - firstUnsyncedNanos >= config.flushMaxWait().toNanos()) {
            return Trigger.MAX_WAIT;
        }
        return null;
    }

    private void writeAll(ArrayDeque<Pending> taken) {
        try {
            Pending p;
            while ((p = taken.peek()) != null) {
                if (writtenSize + buffer.position() + p.size > config.segmentBytes()
                        && writtenSize + buffer.position() > SegmentFile.HEADER_BYTES) {
                    roll();
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
                    RecordCodec.encode(p.index, p.message, buffer);
                } else {
                    ByteBuffer big = ByteBuffer.allocate(p.size);
                    RecordCodec.encode(p.index, p.message, big);
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

    private void flush(Trigger trigger) {
        try {
            try (Timer.Context ignored = fsyncTimer.time()) {
                channel.force(false);
            }
        } catch (IOException | RuntimeException e) {
            recoverFromWriteFailure(e, new ArrayDeque<>());
            return;
        }
        triggerCounters[trigger.ordinal()].inc();
        recordsPerFsync.update(unsynced.size());
        syncedSize = writtenSize;
        log.published(nextIndex);
        for (Pending p : unsynced) {
            p.future.complete(p.index);
        }
        unsynced.clear();
        unsyncedBytes = 0;
    }

    /** Closes the full segment (synced, so later segments only ever follow durable ones) and starts the next. */
    private void roll() throws IOException {
        drainBuffer();
        flush(Trigger.ROLL);
        if (!unsynced.isEmpty()) {
            throw new IOException("fsync before segment roll failed");
        }
        SegmentFile next = SegmentFile.create(config.directory(), nextIndex, channels);
        FileChannel nextChannel = channels.open(next.path(), StandardOpenOption.WRITE);
        FileChannel old = channel;
        active = next;
        channel = nextChannel;
        writtenSize = SegmentFile.HEADER_BYTES;
        syncedSize = SegmentFile.HEADER_BYTES;
        log.segmentAdded(next);
        old.close();
    }

    /**
     * Fails every record not yet durable (they were never acknowledged) and cuts the segment
     * back to its last durable byte so that the log stays a clean prefix.
     */
    private void recoverFromWriteFailure(Throwable cause, ArrayDeque<Pending> notWritten) {
        writeFailures.inc();
        List<Pending> failed = new ArrayList<>(unsynced);
        failed.addAll(notWritten);
        notWritten.clear();
        unsynced.clear();
        unsyncedBytes = 0;
        buffer.clear();
        LOG.error("Spill write to {} failed; refusing {} unacknowledged records", active, failed.size(), cause);
        // Settle the log's state before anyone hears of the failure: cut back to the last
        // durable byte, or mark the log unusable if even that fails.
        try {
            channel.truncate(syncedSize);
            channel.force(true);
            writtenSize = syncedSize;
            nextIndex = log.durableEnd();
        } catch (IOException | RuntimeException e) {
            fatal(e);
        }
        SpillException error = new SpillException("spill log write failed: " + cause, cause);
        log.released(failed.size(), failed.stream().mapToLong(p -> p.size).sum());
        for (Pending p : failed) {
            p.future.completeExceptionally(error);
        }
    }

    private void fatal(Throwable cause) {
        LOG.error("Spill log writer stopped; the log refuses appends until reopened", cause);
        log.failed(cause);
        List<Pending> failed = new ArrayList<>(unsynced);
        unsynced.clear();
        synchronized (queueLock) {
            closing = true;
            failed.addAll(queue);
            queue.clear();
        }
        SpillException error = new SpillException("spill log unusable: " + cause, cause);
        log.released(failed.size(), failed.stream().mapToLong(p -> p.size).sum());
        for (Pending p : failed) {
            p.future.completeExceptionally(error);
        }
    }
}
