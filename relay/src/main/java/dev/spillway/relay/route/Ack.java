package dev.spillway.relay.route;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One producer request: completes when all its values are durable, fails on the first refusal.
 *
 * <p>Thread-safe.
 */
final class Ack {
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
