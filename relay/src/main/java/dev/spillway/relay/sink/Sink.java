package dev.spillway.relay.sink;

import dev.spillway.relay.Message;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * What the router needs of the Redis write path: send a batch, know whether sending can
 * succeed now, and hear when it may again. {@link GuardedSink} is the real one; router tests
 * use a fake.
 *
 * <p>Implementations are thread-safe.
 */
public interface Sink {

    /**
     * Sends {@code batch} (in order, all of it or the prefix up to a refused run). The stage
     * completes when the batch counts as written — the master applied it, the ack policy holds,
     * and the write gate stayed open on the same epoch from send to reply — or fails, in which
     * case the batch may or may not have landed (the caller spills it; replay is idempotent).
     * It fails with {@link WriteGateException} or the breaker's {@code CallNotPermittedException}
     * when nothing was sent.
     *
     * @param replay true for messages already acknowledged (from the spill): a message Redis
     *     refuses goes to the dead-letter list; false for direct writes: it comes back in
     *     {@link WriteResult#refusal()} and the messages behind it are not sent
     */
    CompletionStage<WriteResult> writeAsync(List<Message> batch, boolean replay);

    /** True when a write sent now could succeed: the write gate is open and the breaker lets calls through. */
    boolean permitsCalls();

    /** {@code listener} runs (on some I/O thread; it must be quick) whenever writes may succeed again. */
    void onWritable(Runnable listener);

    /** Why writes cannot succeed now, for logs; empty when they can. */
    String blockedReason();
}
