package dev.spillway.relay.route;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import dev.spillway.relay.metrics.RelayEvents;
import dev.spillway.relay.sink.Sink;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.sink.WriteGateException;
import dev.spillway.relay.sink.WriteResult;
import dev.spillway.relay.spill.SpillLog;
import dev.spillway.relay.spill.SpilledMessage;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the spill log back to Redis, in log order, whenever the router is spilling and the
 * sink permits calls. A batch is read at the cursor, written through the sink as a replay
 * (messages Redis refuses go to the dead-letter list: they were acknowledged and must neither
 * be lost silently nor block the messages behind them), and only then is the cursor committed
 * past it. Any failure rewinds the cursor to the last commit and the batch is sent again later:
 * the sink's high-water mark skips whatever had landed.
 *
 * <p>When it finds the log empty it asks the router ({@code drained}) to turn back to direct
 * writes; the router decides, under its own lock, whether nothing came in meanwhile.
 *
 * <p>Thread-safe: one thread of its own does the work; {@link #wake} may be called from any
 * thread.
 */
final class Replayer implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(Replayer.class);

    private final Sink sink;
    private final SpillLog spill;
    private final SinkConfig config;
    private final BooleanSupplier drained;
    private final BooleanSupplier spilling;
    private final Semaphore wake = new Semaphore(0);
    private final Thread thread;
    private final Meter replayed;
    private final Meter deduped;
    private final Meter deadLettered;
    private volatile boolean stopped;

    /**
     * @param drained called when the log is empty; true when the router went back to direct writes
     * @param spilling true while the router is in SPILL mode (replay has work)
     */
    Replayer(Sink sink, SpillLog spill, SinkConfig config, MetricRegistry metrics, BooleanSupplier drained,
            BooleanSupplier spilling) {
        this.sink = sink;
        this.spill = spill;
        this.config = config;
        this.drained = drained;
        this.spilling = spilling;
        this.replayed = metrics.meter(MetricRegistry.name(Router.class, "replayed"));
        this.deduped = metrics.meter(MetricRegistry.name(Router.class, "replay-deduped"));
        this.deadLettered = metrics.meter("spillway.dead-letter.messages");
        this.thread = new Thread(this::loop, "router-replay");
    }

    void start() {
        thread.start();
    }

    /** Something changed (new spill data, the sink can write again): look now rather than at the next poll. */
    void wake() {
        wake.release();
    }

    long deadLettered() {
        return deadLettered.getCount();
    }

    @Override
    public void close() {
        stopped = true;
        wake.release();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop() {
        List<Message> messages = new ArrayList<>(config.maxBatch());
        while (!stopped) {
            try {
                if (!spilling.getAsBoolean() || !sink.permitsCalls()) {
                    await(100);
                    continue;
                }
                List<SpilledMessage> batch = spill.cursor().read(config.maxBatch(), config.maxBatchBytes());
                if (batch.isEmpty()) {
                    if (!drained.getAsBoolean()) {
                        await(50);
                    }
                    continue;
                }
                messages.clear();
                for (SpilledMessage s : batch) {
                    messages.add(s.message());
                }
                WriteResult r;
                try {
                    r = sink.writeAsync(messages, true).toCompletableFuture().join();
                } catch (CompletionException | IllegalStateException e) {
                    Throwable cause = e.getCause() != null ? e.getCause() : e;
                    spill.cursor().rewind();
                    if (!(cause instanceof CallNotPermittedException) && !(cause instanceof WriteGateException g
                            && !g.sent())) {
                        logFailure(cause);
                        await(20);
                    }
                    continue;
                }
                spill.cursor().commit(batch.get(batch.size() - 1).index() + 1);
                replayed.mark(batch.size());
                deduped.mark(r.skipped());
                if (r.deadLettered() > 0) {
                    deadLettered.mark(r.deadLettered());
                    RelayEvents.warn("dead-letter", "Replay: Redis refused " + r.deadLettered()
                            + " acknowledged message(s); they are on the dead-letter list '" + config.deadLetterKey() + "'",
                            "messages", r.deadLettered(), "list", config.deadLetterKey());
                }
            } catch (IOException | RuntimeException e) {
                LOG.error("Replay failed; retrying", e);
                try {
                    spill.cursor().rewind();
                } catch (IOException ignored) {
                    // the next read reports it again
                }
                await(1000);
            }
        }
    }

    private String lastFailure;
    private long lastFailureLoggedNanos;

    /** A replay that keeps failing says why — once per distinct reason, and at most every 5 s for the same one. */
    private void logFailure(Throwable cause) {
        String what = cause.getClass().getSimpleName() + ": " + cause.getMessage();
        long now = System.nanoTime();
        if (!what.equals(lastFailure) || now - lastFailureLoggedNanos > TimeUnit.SECONDS.toNanos(5)) {
            LOG.warn("Replay write not confirmed ({}); retrying", what.length() > 300 ? what.substring(0, 300) : what);
            lastFailure = what;
            lastFailureLoggedNanos = now;
        }
    }

    private void await(long millis) {
        try {
            if (wake.tryAcquire(millis, TimeUnit.MILLISECONDS)) {
                wake.drainPermits();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = true;
        }
    }
}
