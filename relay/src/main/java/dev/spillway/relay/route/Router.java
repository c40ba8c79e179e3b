package dev.spillway.relay.route;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import dev.spillway.relay.sink.Sink;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.sink.WriteResult;
import dev.spillway.relay.spill.SpillDiskFullException;
import dev.spillway.relay.spill.SpillException;
import dev.spillway.relay.spill.SpillFullException;
import dev.spillway.relay.spill.SpillLog;
import dev.spillway.relay.spill.SpillOutcomeUnknownException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides where each message goes and keeps them in order.
 *
 * <h2>Modes</h2>
 * <ul>
 * <li><b>DIRECT</b>: messages queue for the direct writer, which sends one batch at a time
 *     through the sink and acknowledges it when the sink says it counts as written. The writer
 *     is not a thread: the first message into an idle router sends a batch from the submitting
 *     thread, and each batch's completion sends the next from the sink's I/O thread, so the
 *     messages that arrive while a batch is in flight leave together as the next one. A batch
 *     that fails for any reason — write gate closed or moved, breaker open, timeout, WAIT
 *     shortfall, error — goes to the spill log together with everything queued behind it, in
 *     order, and the router turns to SPILL; those messages are acknowledged once fsync'd. A run
 *     of messages Redis refuses (their key holds another type) fails their requests with Redis's
 *     own error; the messages before it are acknowledged, those behind it go out next.</li>
 * <li><b>SPILL</b>: new messages are appended behind the spill (acknowledged on fsync). The
 *     {@link Replayer} writes the spill through the same sink whenever it permits calls; when
 *     nothing is pending in the spill, the router turns back to DIRECT.</li>
 * </ul>
 * Exactly one Redis write is in flight at any time (the direct writer's in DIRECT, the
 * replayer's in SPILL), and message sequences are handed out in arrival order under the same
 * lock that picks the destination: that is what lets the sink's high-water mark deduplicate
 * replays, and what keeps each producer connection's order.
 *
 * <h2>A request is all-or-nothing</h2>
 * The values of one {@link #submit} (one {@code RPUSH k v1 v2 v3}, one NDJSON body) never leave
 * in different direct batches and are appended to the spill together or not at all, so a
 * producer is either acknowledged for all of them or refused for all of them.
 *
 * <p>Thread-safe: {@link #submit} may be called from any thread.
 */
public final class Router implements Intake, Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(Router.class);

    public enum Mode { DIRECT, SPILL }

    private final Sink sink;
    private final SpillLog spill;
    private final SinkConfig config;
    private final long instance;
    private final LongSupplier nanoClock;
    private final byte[] reservedPrefix;
    private final byte[] reservedDeadLetter;

    private final Object lock = new Object();
    private Mode mode; // guarded by lock
    private long nextSequence; // guarded by lock
    private final ArrayDeque<Pending> directQueue = new ArrayDeque<>(); // guarded by lock
    private boolean closing; // guarded by lock
    private boolean sending; // guarded by lock: a direct batch is in flight

    private final Replayer replayer;
    private final AtomicInteger inFlight = new AtomicInteger();

    private final Meter directMessages;
    private final Meter spilledMessages;
    private final Meter refusedByRedis;
    private final Counter spillEpisodes;
    private final Meter rejected;
    private volatile long spillStartedNanos;

    public Router(Sink sink, SpillLog spill, SinkConfig config, MetricRegistry metrics) {
        this(sink, spill, config, metrics, System::nanoTime);
    }

    Router(Sink sink, SpillLog spill, SinkConfig config, MetricRegistry metrics, LongSupplier nanoClock) {
        this.sink = sink;
        this.spill = spill;
        this.config = config;
        this.nanoClock = nanoClock;
        this.reservedPrefix = config.dedupeKeyPrefix().getBytes(StandardCharsets.UTF_8);
        this.reservedDeadLetter = config.deadLetterKey().getBytes(StandardCharsets.UTF_8);
        long id;
        do {
            id = new SecureRandom().nextLong();
        } while (id == 0);
        this.instance = id;
        this.mode = spill.pendingMessages() > 0 ? Mode.SPILL : Mode.DIRECT;
        this.directMessages = metrics.meter(MetricRegistry.name(Router.class, "direct"));
        this.spilledMessages = metrics.meter(MetricRegistry.name(Router.class, "spilled"));
        this.refusedByRedis = metrics.meter("spillway.router.refused-by-redis");
        this.spillEpisodes = metrics.counter(MetricRegistry.name(Router.class, "spill-episodes"));
        this.rejected = metrics.meter(MetricRegistry.name(Router.class, "rejected"));
        metrics.register(MetricRegistry.name(Router.class, "mode"), (Gauge<String>) () -> mode().name());
        metrics.register(MetricRegistry.name(Router.class, "spilling"),
                (Gauge<Integer>) () -> mode() == Mode.SPILL ? 1 : 0);
        metrics.register(MetricRegistry.name(Router.class, "in-flight"), (Gauge<Integer>) inFlight::get);
        if (mode == Mode.SPILL) {
            spillStartedNanos = nanoClock.getAsLong();
            LOG.info("Spill log holds {} messages from before the restart: replaying them first",
                    spill.pendingMessages());
        }
        LOG.info("Router started as relay instance {}", Long.toHexString(instance));
        this.replayer = new Replayer(sink, spill, config, metrics, this::switchToDirectIfDrained,
                () -> mode() == Mode.SPILL);
        spill.addDurableListener(replayer::wake);
        sink.onWritable(replayer::wake);
        replayer.start();
    }

    /**
     * Accepts {@code values} for {@code key}, in order; the future completes when every value is
     * durable (in Redis per the ack policy, or fsync'd in the spill log), or exceptionally with
     * a {@link RelayRejectedException} naming why the request was refused (then none of its
     * values was taken, or — Redis refused it — none was written).
     */
    @Override
    public CompletableFuture<Void> submit(Message.ListOp op, byte[] key, List<byte[]> values) {
        String reserved = reserved(key);
        if (reserved != null) {
            rejected.mark(values.size());
            return CompletableFuture.failedFuture(new RelayRejectedException(
                    RelayRejectedException.Reason.REDIS_REFUSED, reserved, null));
        }
        Ack ack = new Ack(values.size());
        List<Pending> batch = null;
        synchronized (lock) {
            if (closing) {
                rejected.mark(values.size());
                return CompletableFuture.failedFuture(new RelayRejectedException(
                        RelayRejectedException.Reason.SHUTTING_DOWN, "relay is shutting down", null));
            }
            List<Pending> request = new ArrayList<>(values.size());
            for (byte[] value : values) {
                request.add(new Pending(new Message(instance, nextSequence++, op, key, value), ack));
            }
            inFlight.addAndGet(request.size());
            if (mode == Mode.DIRECT) {
                directQueue.addAll(request);
                if (!sending) {
                    sending = true;
                    batch = nextBatch();
                }
            } else {
                toSpill(request);
            }
        }
        if (batch != null) {
            send(batch);
        }
        return ack.future;
    }

    /**
     * Why {@code key} is Spillway's own (a high-water mark or the dead-letter list), or null: a
     * producer pushing there would break the dedupe of every replay or wedge the dead letters.
     */
    private String reserved(byte[] key) {
        if (key.length >= reservedPrefix.length
                && Arrays.equals(key, 0, reservedPrefix.length, reservedPrefix, 0, reservedPrefix.length)) {
            return "ERR key '" + new String(key, StandardCharsets.UTF_8) + "' is reserved: keys starting with "
                    + "sink.dedupeKeyPrefix '" + config.dedupeKeyPrefix() + "' hold Spillway's high-water marks";
        }
        if (Arrays.equals(key, reservedDeadLetter)) {
            return "ERR key '" + config.deadLetterKey() + "' is reserved: it is Spillway's dead-letter list "
                    + "(sink.deadLetterKey)";
        }
        return null;
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

    /** Acknowledged messages that Redis refused during replay and that went to the dead-letter list. */
    public long deadLettered() {
        return replayer.deadLettered();
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
        replayer.close();
    }

    // ---- direct path ----

    /**
     * Takes the next direct batch off the queue, in order: up to {@code sink.maxBatch} messages
     * and {@code sink.maxBatchBytes} bytes (at least one request), never splitting a request.
     * Called with the lock held.
     */
    private List<Pending> nextBatch() {
        List<Pending> batch = new ArrayList<>(Math.min(directQueue.size(), config.maxBatch()));
        long bytes = 0;
        while (!directQueue.isEmpty()) {
            Pending p = directQueue.peek();
            boolean sameRequest = !batch.isEmpty() && batch.get(batch.size() - 1).ack == p.ack;
            if (!batch.isEmpty() && !sameRequest
                    && (batch.size() >= config.maxBatch() || bytes >= config.maxBatchBytes())) {
                break;
            }
            directQueue.poll();
            bytes += p.message.value().length + p.message.key().length;
            batch.add(p);
        }
        return batch;
    }

    /**
     * Sends one direct batch. Its completion (on the sink's I/O thread) acknowledges it — or
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
                CompletionStage<WriteResult> stage = sink.writeAsync(messages, false);
                written = stage.toCompletableFuture();
            } catch (RuntimeException e) { // the sink reports failures in the stage; this is a bug, but spill
                written = CompletableFuture.failedFuture(e);
            }
            if (!written.isDone()) {
                List<Pending> sent = batch;
                written.whenComplete((r, error) -> {
                    List<Pending> next;
                    try {
                        next = settle(sent, r, error);
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
            // refused or failed at once (gate closed, breaker open, no connection): settle here, no recursion
            Throwable error = null;
            WriteResult result = null;
            try {
                result = written.join();
            } catch (CompletionException | CancellationException e) {
                error = e;
            }
            batch = settle(batch, result, error);
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
    private List<Pending> settle(List<Pending> batch, WriteResult result, Throwable error) {
        if (error != null) {
            spillAfterFailure(batch, error instanceof CompletionException && error.getCause() != null
                    ? error.getCause() : error);
            return nextOrIdle();
        }
        WriteResult.Refusal refusal = result.refusal();
        int written = 0;
        List<Pending> notSent = new ArrayList<>();
        for (Pending p : batch) {
            if (refusal == null || p.message.sequence() < refusal.firstSequence()) {
                written++;
                inFlight.decrementAndGet();
                p.ack.done();
            } else if (refusal.covers(p.message.instance(), p.message.sequence())) {
                inFlight.decrementAndGet();
                refusedByRedis.mark();
                p.ack.fail(new RelayRejectedException(RelayRejectedException.Reason.REDIS_REFUSED, refusal.error(),
                        null));
            } else {
                notSent.add(p);
            }
        }
        directMessages.mark(written);
        if (refusal != null) {
            LOG.info("Redis refused {} message(s) for key '{}' ({}); the producer is told, the rest go on",
                    refusal.count(), batch.stream().filter(p -> refusal.covers(p.message.instance(),
                            p.message.sequence())).findFirst().map(p -> p.message.keyString()).orElse("?"),
                    refusal.error());
        }
        if (!notSent.isEmpty()) {
            synchronized (lock) { // they go out next, ahead of what queued behind them
                for (int i = notSent.size() - 1; i >= 0; i--) {
                    directQueue.addFirst(notSent.get(i));
                }
            }
        }
        return nextOrIdle();
    }

    /** The batch's outcome is unknown: it and everything queued behind it go to the spill, in order. */
    private void spillAfterFailure(List<Pending> batch, Throwable cause) {
        synchronized (lock) {
            if (mode == Mode.DIRECT) {
                mode = Mode.SPILL;
                spillEpisodes.inc();
                spillStartedNanos = nanoClock.getAsLong();
                LOG.warn("Redis write not confirmed ({}); spilling from sequence {} on",
                        cause instanceof CallNotPermittedException ? "circuit breaker open" : cause.getMessage(),
                        batch.get(0).message.sequence());
            }
            List<Pending> all = new ArrayList<>(batch.size() + directQueue.size());
            all.addAll(batch);
            all.addAll(directQueue);
            directQueue.clear();
            int from = 0;
            RuntimeException refused = null;
            while (from < all.size()) { // one append per request
                int to = from + 1;
                while (to < all.size() && all.get(to).ack == all.get(from).ack) {
                    to++;
                }
                if (refused == null) {
                    refused = toSpill(all.subList(from, to));
                } else {
                    // once one request could not be spilled, none behind it may be: a later, smaller
                    // one acknowledged ahead of a refused one that its producer re-sends would land
                    // out of order
                    refuse(all.subList(from, to), reasonFor(refused), refused);
                }
                from = to;
            }
        }
        replayer.wake();
    }

    /**
     * Appends one request's messages to the spill, all or none; returns why it refused them, or
     * null. Called with the lock held, so spill order is arrival order.
     */
    private RuntimeException toSpill(List<Pending> request) {
        List<Message> messages = new ArrayList<>(request.size());
        for (Pending p : request) {
            messages.add(p.message);
        }
        List<CompletableFuture<Long>> appended;
        try {
            appended = spill.appendAll(messages);
        } catch (SpillException e) {
            refuse(request, reasonFor(e), e);
            return e;
        }
        spilledMessages.mark(request.size());
        for (int i = 0; i < request.size(); i++) {
            Pending p = request.get(i);
            appended.get(i).whenComplete((index, error) -> {
                inFlight.decrementAndGet();
                if (error == null) {
                    p.ack.done();
                } else {
                    rejected.mark();
                    p.ack.fail(new RelayRejectedException(reasonFor(error), error.getMessage(), error));
                }
            });
        }
        return null;
    }

    private static RelayRejectedException.Reason reasonFor(Throwable spillError) {
        return spillError instanceof SpillFullException ? RelayRejectedException.Reason.SPILL_FULL
                : spillError instanceof SpillDiskFullException ? RelayRejectedException.Reason.SPILL_DISK_FULL
                : spillError instanceof SpillOutcomeUnknownException ? RelayRejectedException.Reason.OUTCOME_UNKNOWN
                : RelayRejectedException.Reason.SPILL_FAILED;
    }

    private void refuse(List<Pending> request, RelayRejectedException.Reason reason, RuntimeException e) {
        inFlight.addAndGet(-request.size());
        rejected.mark(request.size());
        request.get(0).ack.fail(new RelayRejectedException(reason, e.getMessage(), e));
    }

    /** Called by the replayer when it finds the spill empty: back to direct writes if nothing came in since. */
    private boolean switchToDirectIfDrained() {
        synchronized (lock) {
            if (mode != Mode.SPILL || spill.pendingMessages() != 0) {
                return false;
            }
            mode = Mode.DIRECT;
        }
        LOG.info("Spill drained in {} ms; writing directly again",
                TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - spillStartedNanos));
        return true;
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
