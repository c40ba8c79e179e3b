package dev.spillway.relay.ingress;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Messages waiting for their ack across all ingress connections, with the bounds that pause
 * reading and the marks that resume it: half of each bound.
 *
 * <p>A connection paused by the total bound may have nothing of its own in flight, so no ack of
 * its own will ever wake it; it leaves a waker here instead ({@link #onTotalDrained}), and the
 * ack that brings the total down to the resume mark runs every waker left, whichever
 * connection that ack belongs to.
 *
 * <p>Thread-safe.
 */
public final class InFlight {

    private final AtomicLong total = new AtomicLong();
    private final int perConnectionLimit;
    private final int totalLimit;
    private final Queue<Runnable> drainWaiters = new ConcurrentLinkedQueue<>();

    public InFlight(int perConnectionLimit, int totalLimit) {
        this.perConnectionLimit = perConnectionLimit;
        this.totalLimit = totalLimit;
    }

    void add(int messages) {
        long now = total.addAndGet(messages);
        if (messages < 0 && now <= totalResumeMark() && now - messages > totalResumeMark()) {
            wakeDrainWaiters();
        }
    }

    public long total() {
        return total.get();
    }

    int perConnectionLimit() {
        return perConnectionLimit;
    }

    boolean overTotal() {
        return total.get() >= totalLimit;
    }

    /** True once the total is down to half its bound: connections paused by it may read again. */
    boolean totalDrained() {
        return total.get() <= totalResumeMark();
    }

    /**
     * Runs {@code waker} once, from whatever thread brings the total down to its resume mark
     * (or at once, on this thread, when it is there already); the waker must hop to its own
     * event loop. Each call leaves one waker, so a connection should leave one at a time.
     */
    void onTotalDrained(Runnable waker) {
        drainWaiters.add(waker);
        if (totalDrained()) {
            // the total may have dropped between the caller's look and our queueing: nobody else
            // would see this waker until the next drain
            wakeDrainWaiters();
        }
    }

    private long totalResumeMark() {
        return totalLimit / 2;
    }

    private void wakeDrainWaiters() {
        Runnable waker;
        while ((waker = drainWaiters.poll()) != null) {
            try {
                waker.run();
            } catch (RuntimeException e) {
                // e.g. the connection's event loop has shut down: that connection needs no waking,
                // and the ack that called us must still settle
            }
        }
    }
}
