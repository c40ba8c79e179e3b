package dev.spillway.relay.route;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import dev.spillway.relay.sink.GuardedSink;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.sink.WriteResult;
import dev.spillway.relay.spill.SpillException;
import dev.spillway.relay.spill.SpillFullException;
import dev.spillway.relay.spill.SpillLog;
import dev.spillway.relay.spill.SpilledMessage;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.io.Closeable;
import java.io.IOException;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides where each message goes and keeps them in order.
 *
 * <h2>Modes</h2>
 * <ul>
 * <li><b>DIRECT</b>: messages queue for the direct writer, which sends one batch at a time
 *     through the guarded sink and acknowledges it when the ack policy holds. The writer is not
 *     a thread: the first message into an idle router sends a batch from the submitting thread,
 *     and each batch's completion sends the next from Redisson's I/O thread, so the messages
 *     that arrive while a batch is in flight leave together as the next one. A batch that
 *     fails for any reason — breaker open, timeout, WAIT shortfall, error — goes to the spill
 *     log together with everything queued behind it, in order, and the router turns to SPILL;
 *     those messages are acknowledged once fsync'd.</li>
 * <li><b>SPILL</b>: new messages are appended behind the spill (acknowledged on fsync). The
 *     replayer reads the spill in order and writes it through the same sink whenever the
 *     breaker lets calls through; it commits the spill cursor only after a write is
 *     acknowledged. When nothing is pending in the spill, the router turns back to DIRECT.</li>
 * </ul>
 * Exactly one Redis write is in flight at any time (the direct writer's in DIRECT, the
 * replayer's in SPILL), and message sequences are handed out in arrival order under the same
 * lock that picks the destination: that is what lets {@link dev.spillway.relay.sink.RedisSink}'s
 * high-water mark deduplicate replays, and what keeps each producer connection's order.
 *
 * <p>A Sentinel failover ({@link #onFailover}) half-opens an open breaker and wakes the
 * replayer, so replay starts as soon as the new master is known rather than on the breaker's
 * timer. A router opened on a spill log that holds messages (a restarted relay) starts in
 * SPILL and replays them.
 *
 * <p>Thread-safe: {@link #submit} may be called from any thread.
 */
public final class Router implements Intake, Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(Router.class);

    public enum Mode { DIRECT, SPILL }

    private final GuardedSink sink;
    private final SpillLog spill;
    private final SinkConfig config;
    private final long instance;

    private final Object lock = new Object();
    private Mode mode; // guarded by lock
    private long nextSequence; // guarded by lock
    private final ArrayDeque<Pending> directQueue = new ArrayDeque<>(); // guarded by lock
    private boolean closing; // guarded by lock
    private boolean sending; // guarded by lock: a direct batch is in flight

    private final Semaphore replayWake = new Semaphore(0);
    private volatile boolean stopped;
    private final Thread replayThread;
    private final AtomicInteger inFlight = new AtomicInteger();

    private final Meter directMessages;
    private final Meter spilledMessages;
    private final Meter replayedMessages;
    private final Meter replayDeduped;
    private final Counter spillEpisodes;
    private final Meter rejected;
    private volatile long spillStartedNanos;

    public Router(GuardedSink sink, SpillLog spill, SinkConfig config, MetricRegistry metrics) {
        this.sink = sink;
        this.spill = spill;
        this.config = config;
        long id;
        do {
            id = new SecureRandom().nextLong();
        } while (id == 0);
        this.instance = id;
        this.mode = spill.pendingMessages() > 0 ? Mode.SPILL : Mode.DIRECT;
        this.directMessages = metrics.meter(MetricRegistry.name(Router.class, "direct"));
        this.spilledMessages = metrics.meter(MetricRegistry.name(Router.class, "spilled"));
        this.replayedMessages = metrics.meter(MetricRegistry.name(Router.class, "replayed"));
        this.replayDeduped = metrics.meter(MetricRegistry.name(Router.class, "replay-deduped"));
        this.spillEpisodes = metrics.counter(MetricRegistry.name(Router.class, "spill-episodes"));
        this.rejected = metrics.meter(MetricRegistry.name(Router.class, "rejected"));
        metrics.register(MetricRegistry.name(Router.class, "mode"), (Gauge<String>) () -> mode().name());
        metrics.register(MetricRegistry.name(Router.class, "spilling"),
                (Gauge<Integer>) () -> mode() == Mode.SPILL ? 1 : 0);
        metrics.register(MetricRegistry.name(Router.class, "in-flight"), (Gauge<Integer>) inFlight::get);
        spill.addDurableListener(replayWake::release);
        sink.breaker().getEventPublisher().onStateTransition(e -> {
            if (e.getStateTransition().getToState() != CircuitBreaker.State.OPEN) {
                replayWake.release();
            }
        });
        if (mode == Mode.SPILL) {
            spillStartedNanos = System.nanoTime();
            LOG.info("Spill log holds {} messages from before the restart: replaying them first",
                    spill.pendingMessages());
        }
        LOG.info("Router started as relay instance {}", Long.toHexString(instance));
        replayThread = new Thread(this::replayLoop, "router-replay");
        replayThread.start();
    }

    /**
     * Accepts {@code values} for {@code key}, in order; the future completes when every value is
     * durable (in Redis per the ack policy, or fsync'd in the spill log), or exceptionally with
     * a {@link RelayRejectedException} naming why some value was refused.
     */
    @Override
    public CompletableFuture<Void> submit(Message.ListOp op, byte[] key, List<byte[]> values) {
        Ack ack = new Ack(values.size());
        List<Pending> batch = null;
        synchronized (lock) {
            if (closing) {
                rejected.mark(values.size());
                return CompletableFuture.failedFuture(new RelayRejectedException(
                        RelayRejectedException.Reason.SHUTTING_DOWN, "relay is shutting down", null));
            }
            for (byte[] value : values) {
                Message m = new Message(instance, nextSequence++, op, key, value);
                inFlight.incrementAndGet();
                if (mode == Mode.DIRECT) {
                    directQueue.add(new Pending(m, ack));
                } else {
                    toSpill(new Pending(m, ack));
                }
            }
            if (mode == Mode.DIRECT && !sending) {
                sending = true;
                batch = nextBatch();
            }
        }
        if (batch != null) {
            send(batch);
        }
        return ack.future;
    }

    /** A Sentinel failover: try replay now rather than when the breaker's timer says. */
    public void onFailover(String oldMaster, String newMaster) {
        if (sink.breaker().getState() == CircuitBreaker.State.OPEN) {
            try {
                sink.breaker().transitionToHalfOpenState();
            } catch (IllegalStateException raced) {
                // the breaker moved on by itself
            }
        }
        replayWake.release();
    }

    public Mode mode() {
        synchronized (lock) {
            return mode;
        }
    }

    /** The id of this relay incarnation (the first half of every message id). */
    public long instance() {
        return instance;
    }

    /** Messages accepted and not yet acknowledged or refused. */
    public int inFlight() {
        return inFlight.get();
    }

    /**
     * Refuses new messages, writes or spills every queued one, then stops the replayer and waits
     * for it. The spill log stays open (its owner closes it); what it holds is replayed
     * by the next relay on the same directory.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closing) {
                return;
            }
            closing = true;
            while (sending) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        stopped = true;
        replayWake.release();
        joinQuietly(replayThread);
    }

    // ---- direct path ----

    /**
     * Takes the next direct batch off the queue, in order: up to {@code sink.maxBatch} messages
     * and {@code sink.maxBatchBytes} bytes (at least one message). Called with the lock held.
     */
    private List<Pending> nextBatch() {
        List<Pending> batch = new ArrayList<>(Math.min(directQueue.size(), config.maxBatch()));
        long bytes = 0;
        while (!directQueue.isEmpty() && batch.size() < config.maxBatch()
                && (batch.isEmpty() || bytes < config.maxBatchBytes())) {
            Pending p = directQueue.poll();
            bytes += p.message.value().length + p.message.key().length;
            batch.add(p);
        }
        return batch;
    }

    /**
     * Sends one direct batch. Its completion (on a Redisson I/O thread) acknowledges it — or
     * spills it and everything behind it — and sends the next batch from the same thread, so in
     * steady state a batch leaves as soon as the previous one is acknowledged, without waking
     * any other thread.
     */
    private void send(List<Pending> batch) {
        while (batch != null) {
            List<Message> messages = new ArrayList<>(batch.size());
            for (Pending p : batch) {
                messages.add(p.message);
            }
            CompletableFuture<WriteResult> written;
            try {
                written = sink.writeAsync(messages).toCompletableFuture();
            } catch (RuntimeException e) { // the sink reports failures in the stage; this is a bug, but spill
                written = CompletableFuture.failedFuture(e);
            }
            if (!written.isDone()) {
                List<Pending> sent = batch;
                written.whenComplete((r, error) -> {
                    List<Pending> next;
                    try {
                        next = settle(sent, error);
                    } catch (RuntimeException e) {
                        // never leave the router believing a batch is in flight: it would queue forever
                        LOG.error("Settling a direct batch failed; the direct writer carries on", e);
                        next = nextOrIdle();
                    }
                    if (next != null) {
                        send(next);
                    }
                });
                return;
            }
            // refused or failed at once (breaker open, no connection): settle here, no recursion
            Throwable error = null;
            try {
                written.join();
            } catch (CompletionException | CancellationException e) {
                error = e;
            }
            batch = settle(batch, error);
        }
    }

    /** The next batch if the router is still direct and has one; otherwise marks the writer idle and returns null. */
    private List<Pending> nextOrIdle() {
        synchronized (lock) {
            if (mode == Mode.DIRECT && !directQueue.isEmpty()) {
                return nextBatch();
            }
            sending = false;
            lock.notifyAll();
            return null;
        }
    }

    /** Acknowledges a written batch or spills a failed one; returns the next batch to send, or null. */
    private List<Pending> settle(List<Pending> batch, Throwable error) {
        if (error == null) {
            directMessages.mark(batch.size());
            for (Pending p : batch) {
                inFlight.decrementAndGet();
                p.ack.done();
            }
        } else {
            spillAfterFailure(batch, error instanceof CompletionException && error.getCause() != null
                    ? error.getCause() : error);
        }
        return nextOrIdle();
    }

    /** The batch's outcome is unknown: it and everything queued behind it go to the spill, in order. */
    private void spillAfterFailure(List<Pending> batch, Throwable cause) {
        synchronized (lock) {
            if (mode == Mode.DIRECT) {
                mode = Mode.SPILL;
                spillEpisodes.inc();
                spillStartedNanos = System.nanoTime();
                LOG.warn("Redis write failed ({}); spilling from sequence {} on",
                        cause instanceof CallNotPermittedException ? "circuit breaker open" : cause.toString(),
                        batch.get(0).message.sequence());
            }
            for (Pending p : batch) {
                toSpill(p);
            }
            Pending p;
            while ((p = directQueue.poll()) != null) {
                toSpill(p);
            }
        }
        replayWake.release();
    }

    /** Called with the lock held, so spill order is arrival order. */
    private void toSpill(Pending p) {
        try {
            spill.append(p.message).whenComplete((index, error) -> {
                inFlight.decrementAndGet();
                if (error == null) {
                    p.ack.done();
                } else {
                    rejected.mark();
                    p.ack.fail(new RelayRejectedException(RelayRejectedException.Reason.SPILL_FAILED,
                            error.getMessage(), error));
                }
            });
            spilledMessages.mark();
        } catch (SpillFullException e) {
            inFlight.decrementAndGet();
            rejected.mark();
            p.ack.fail(new RelayRejectedException(RelayRejectedException.Reason.SPILL_FULL, e.getMessage(), e));
        } catch (SpillException e) {
            inFlight.decrementAndGet();
            rejected.mark();
            p.ack.fail(new RelayRejectedException(RelayRejectedException.Reason.SPILL_FAILED, e.getMessage(), e));
        }
    }

    // ---- replay ----

    private void replayLoop() {
        List<Message> messages = new ArrayList<>(config.maxBatch());
        while (!stopped) {
            try {
                if (mode() != Mode.SPILL || !sink.permitsCalls()) {
                    awaitWake(100);
                    continue;
                }
                List<SpilledMessage> batch = spill.cursor().read(config.maxBatch(), config.maxBatchBytes());
                if (batch.isEmpty()) {
                    if (!switchToDirectIfDrained()) {
                        awaitWake(50);
                    }
                    continue;
                }
                messages.clear();
                for (SpilledMessage s : batch) {
                    messages.add(s.message());
                }
                WriteResult r;
                try {
                    r = sink.write(messages);
                } catch (RuntimeException e) {
                    spill.cursor().rewind();
                    if (!(e instanceof CallNotPermittedException)) {
                        LOG.debug("Replay write failed (breaker {}, {} calls, {}% failed): {}",
                                sink.breaker().getState(), sink.breaker().getMetrics().getNumberOfBufferedCalls(),
                                sink.breaker().getMetrics().getFailureRate(), e.toString());
                        awaitWake(20);
                    }
                    continue;
                }
                spill.cursor().commit(batch.get(batch.size() - 1).index() + 1);
                replayedMessages.mark(batch.size());
                replayDeduped.mark(r.skipped());
            } catch (IOException | RuntimeException e) {
                LOG.error("Replay failed; retrying", e);
                try {
                    spill.cursor().rewind();
                } catch (IOException ignored) {
                    // the next read reports it again
                }
                awaitWake(1000);
            }
        }
    }

    private boolean switchToDirectIfDrained() {
        synchronized (lock) {
            if (mode != Mode.SPILL || spill.pendingMessages() != 0) {
                return false;
            }
            mode = Mode.DIRECT;
        }
        LOG.info("Spill drained in {} ms; writing directly again",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - spillStartedNanos));
        return true;
    }

    private void awaitWake(long millis) {
        try {
            if (replayWake.tryAcquire(millis, TimeUnit.MILLISECONDS)) {
                replayWake.drainPermits();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = true;
        }
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Pending(Message message, Ack ack) {}

    /** One producer request: completes when all its values are durable, fails on the first refusal. */
    private static final class Ack {
        final CompletableFuture<Void> future = new CompletableFuture<>();
        private final AtomicInteger remaining;

        Ack(int count) {
            remaining = new AtomicInteger(count);
            if (count == 0) {
                future.complete(null);
            }
        }

        void done() {
            if (remaining.decrementAndGet() == 0) {
                future.complete(null);
            }
        }

        void fail(Throwable t) {
            future.completeExceptionally(t);
        }
    }
}
