package dev.spillway.relay.spill;

import java.util.ArrayDeque;
import java.util.List;

/**
 * The hand-off between appenders and the spill log's writer thread: appenders queue whole
 * requests; the writer takes everything queued at once (swapping buffers, so appenders never
 * wait on a write), waits when there is nothing, and drains what is queued when a failure must
 * refuse it.
 *
 * <p>Thread-safe.
 */
final class RequestQueue {

    private final Object lock = new Object();
    private ArrayDeque<PendingRecord> queue = new ArrayDeque<>(); // guarded by lock
    private boolean closing; // guarded by lock
    private boolean woken; // guarded by lock

    /** Queues one request's records, in order, as one unit. */
    void enqueue(List<PendingRecord> request) {
        synchronized (lock) {
            if (closing) {
                throw new SpillException("spill log closed");
            }
            boolean wasEmpty = queue.isEmpty();
            queue.addAll(request);
            if (wasEmpty) {
                lock.notifyAll();
            }
        }
    }

    /** Makes a waiting {@link #take} return now (room may have been freed). */
    void wake() {
        synchronized (lock) {
            woken = true;
            lock.notifyAll();
        }
    }

    /** Stops taking appends; {@link #take} hands out what is queued, then reports the end. */
    void close() {
        synchronized (lock) {
            closing = true;
            lock.notifyAll();
        }
    }

    /**
     * Everything queued, as a deque the caller now owns; {@code empty} (which must be empty)
     * becomes the queue. When nothing is queued, first waits up to {@code waitMillis} (0: until
     * something comes, a wake or the close). Null once closed and empty.
     */
    ArrayDeque<PendingRecord> take(ArrayDeque<PendingRecord> empty, long waitMillis) throws InterruptedException {
        synchronized (lock) {
            if (queue.isEmpty() && !closing && !woken) {
                lock.wait(waitMillis);
            }
            woken = false;
            if (queue.isEmpty() && closing) {
                return null;
            }
            ArrayDeque<PendingRecord> taken = queue;
            queue = empty;
            return taken;
        }
    }

    boolean isEmpty() {
        synchronized (lock) {
            return queue.isEmpty();
        }
    }

    /** Removes everything queued into {@code into}; with {@code close}, also stops taking appends. */
    void drainTo(List<PendingRecord> into, boolean close) {
        synchronized (lock) {
            closing |= close;
            into.addAll(queue);
            queue.clear();
        }
    }
}
