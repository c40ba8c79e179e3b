package dev.spillway.relay.route;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import dev.spillway.relay.sink.Sink;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.sink.WriteResult;
import dev.spillway.relay.spill.SpillLog;
import java.io.Closeable;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
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
 * <p>The router keeps the mode, the sequence and the direct writer; appends to the spill
 * ({@link SpillPath}), the settling of a written direct batch ({@link DirectAcks}) and the keys
 * producers may not use ({@link ReservedKeys}) are their own classes.
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
    private final ReservedKeys reservedKeys;

    private final Object lock = new Object();
    private Mode mode; // guarded by lock
    private long nextSequence; // guarded by lock
    private final ArrayDeque<Pending> directQueue = new ArrayDeque<>(); // guarded by lock
    private boolean closing; // guarded by lock
    private boolean sending; // guarded by lock: a direct batch is in flight

    private final Replayer replayer;
    private final AtomicInteger inFlight = new AtomicInteger();

    private final SpillPath spillPath;
    private final DirectAcks directAcks;
    private final Meter rejected;

    public Router(Sink sink, SpillLog spill, SinkConfig config, MetricRegistry metrics) {
        this(sink, spill, config, metrics, System::nanoTime);
    }

    Router(Sink sink, SpillLog spill, SinkConfig config, MetricRegistry metrics, LongSupplier nanoClock) {
        this.sink = sink;
        this.spill = spill;
        this.config = config;
        this.reservedKeys = new ReservedKeys(config);
        long id;
        do {
            id = new SecureRandom().nextLong();
        } while (id == 0);
        this.instance = id;
        this.mode = spill.pendingMessages() > 0 ? Mode.SPILL : Mode.DIRECT;
        this.spillPath = new SpillPath(spill, inFlight, metrics, nanoClock);
        this.directAcks = new DirectAcks(inFlight, metrics);
        this.rejected = metrics.meter(MetricRegistry.name(Router.class, "rejected"));
        metrics.register(MetricRegistry.name(Router.class, "mode"), (Gauge<String>) () -> mode().name());
        metrics.register(MetricRegistry.name(Router.class, "spilling"),
                (Gauge<Integer>) () -> mode() == Mode.SPILL ? 1 : 0);
        metrics.register(MetricRegistry.name(Router.class, "in-flight"), (Gauge<Integer>) inFlight::get);
        if (mode == Mode.SPILL) {
            spillPath.resumed();
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
        String reserved = reservedKeys.why(key);
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
                spillPath.append(request);
            }
        }
        if (batch != null) {
            send(batch);
        }
        return ack.future;
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
     * Takes the next direct batch off the queue, in order: up to {@code sink.batch.maxMessages} messages
     * and {@code sink.batch.maxBytes} bytes (at least one request), never splitting a request.
     * Called with the lock held.
     */
    private List<Pending> nextBatch() {
        List<Pending> batch = new ArrayList<>(Math.min(directQueue.size(), config.maxBatch()));
        long bytes = 0;
        while (!directQueue.isEmpty()) {
            Pending p = directQueue.peek();
            boolean sameRequest = !batch.isEmpty() && batch.get(batch.size() - 1).ack() == p.ack();
            if (!batch.isEmpty() && !sameRequest
                    && (batch.size() >= config.maxBatch() || bytes >= config.maxBatchBytes())) {
                break;
            }
            directQueue.poll();
            bytes += p.message().value().length + p.message().key().length;
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
                messages.add(p.message());
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
        List<Pending> notSent = directAcks.settle(batch, result);
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
                spillPath.began(cause, batch.get(0).message().sequence());
            }
            List<Pending> all = new ArrayList<>(batch.size() + directQueue.size());
            all.addAll(batch);
            all.addAll(directQueue);
            directQueue.clear();
            spillPath.appendInOrder(all);
        }
        replayer.wake();
    }

    /** Called by the replayer when it finds the spill empty: back to direct writes if nothing came in since. */
    private boolean switchToDirectIfDrained() {
        synchronized (lock) {
            if (mode != Mode.SPILL || spill.pendingMessages() != 0) {
                return false;
            }
            mode = Mode.DIRECT;
        }
        spillPath.ended();
        return true;
    }
}
