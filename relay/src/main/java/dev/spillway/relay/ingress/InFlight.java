package dev.spillway.relay.ingress;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Messages waiting for their ack across all ingress connections, with the bounds that pause
 * reading. Thread-safe.
 */
public final class InFlight {

    private final AtomicLong total = new AtomicLong();
    private final int perConnectionLimit;
    private final int totalLimit;

    public InFlight(int perConnectionLimit, int totalLimit) {
        this.perConnectionLimit = perConnectionLimit;
        this.totalLimit = totalLimit;
    }

    void add(int messages) {
        total.addAndGet(messages);
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
}
