package dev.spillway.relay.route;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import dev.spillway.relay.metrics.RelayEvents;
import dev.spillway.relay.spill.SpillDiskFullException;
import dev.spillway.relay.spill.SpillException;
import dev.spillway.relay.spill.SpillFullException;
import dev.spillway.relay.spill.SpillLog;
import dev.spillway.relay.spill.SpillOutcomeUnknownException;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The router's way into the spill log: appends requests whole, acknowledges each value once it
 * is fsync'd, refuses a request the spill cannot take with the reason, and keeps the spill
 * episodes' count and timing.
 *
 * <p>Thread-safe as the router uses it: appends and episode changes happen under the router's
 * lock (so spill order is arrival order); acks run on the spill log's threads.
 */
final class SpillPath {

    // logs and metrics under the router's name: both are what operators already watch
    private static final Logger LOG = LoggerFactory.getLogger(Router.class);

    private final SpillLog spill;
    private final AtomicInteger inFlight;
    private final LongSupplier nanoClock;
    private final Meter spilledMessages;
    private final Meter rejected;
    private final Counter spillEpisodes;
    private volatile long startedNanos;

    /** {@code inFlight} counts the router's messages not yet acknowledged or refused. */
    SpillPath(SpillLog spill, AtomicInteger inFlight, MetricRegistry metrics, LongSupplier nanoClock) {
        this.spill = spill;
        this.inFlight = inFlight;
        this.nanoClock = nanoClock;
        this.spilledMessages = metrics.meter(MetricRegistry.name(Router.class, "spilled"));
        this.spillEpisodes = metrics.counter(MetricRegistry.name(Router.class, "spill-episodes"));
        this.rejected = metrics.meter(MetricRegistry.name(Router.class, "rejected"));
    }

    /** The relay starts with a non-empty spill: it is replayed before anything goes direct. */
    void resumed() {
        startedNanos = nanoClock.getAsLong();
        RelayEvents.info("spill-resume", "Spill log holds " + spill.pendingMessages()
                + " messages from before the restart: replaying them first", "messages", spill.pendingMessages());
    }

    /** A direct batch from {@code firstSequence} on failed with {@code cause}: an episode begins. */
    void began(Throwable cause, long firstSequence) {
        spillEpisodes.inc();
        startedNanos = nanoClock.getAsLong();
        String why = cause instanceof CallNotPermittedException ? "circuit breaker open" : String.valueOf(cause.getMessage());
        RelayEvents.warn("spill-start", "Redis write not confirmed (" + why + "); spilling from sequence "
                + firstSequence + " on", "reason", why, "sequence", firstSequence);
    }

    /** The spill is drained and the router writes directly again. */
    void ended() {
        long ms = TimeUnit.NANOSECONDS.toMillis(nanoClock.getAsLong() - startedNanos);
        RelayEvents.info("spill-drained", "Spill drained in " + ms + " ms; writing directly again", "millis", ms);
    }

    /**
     * Appends {@code all} (whole requests, in order), one append per request. Called with the
     * router's lock held.
     */
    void appendInOrder(List<Pending> all) {
        int from = 0;
        RuntimeException refused = null;
        while (from < all.size()) { // one append per request
            int to = from + 1;
            while (to < all.size() && all.get(to).ack() == all.get(from).ack()) {
                to++;
            }
            if (refused == null) {
                refused = append(all.subList(from, to));
            } else {
                // once one request could not be spilled, none behind it may be: a later, smaller
                // one acknowledged ahead of a refused one that its producer re-sends would land
                // out of order
                refuse(all.subList(from, to), reasonFor(refused), refused);
            }
            from = to;
        }
    }

    /**
     * Appends one request's messages to the spill, all or none; returns why it refused them, or
     * null. Called with the router's lock held, so spill order is arrival order.
     */
    RuntimeException append(List<Pending> request) {
        List<Message> messages = new ArrayList<>(request.size());
        for (Pending p : request) {
            messages.add(p.message());
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
                    p.ack().done();
                } else {
                    rejected.mark();
                    p.ack().fail(new RelayRejectedException(reasonFor(error), error.getMessage(), error));
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
        request.get(0).ack().fail(new RelayRejectedException(reason, e.getMessage(), e));
    }
}
