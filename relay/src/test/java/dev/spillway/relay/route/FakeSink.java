package dev.spillway.relay.route;

import dev.spillway.relay.Message;
import dev.spillway.relay.sink.Sink;
import dev.spillway.relay.sink.WriteResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A sink whose every write waits for the test to answer it: the test takes the next write with
 * {@link #next}, then completes it (written, refused, failed). Whatever a "Redis" would hold is
 * kept in {@link #landed}: messages the test declared applied, in the order applied.
 */
final class FakeSink implements Sink {

    /** One write the router sent: its messages and the future the test completes. */
    record Write(List<Message> batch, boolean replay, CompletableFuture<WriteResult> reply) {

        /** Answers that every message was written. */
        void written() {
            reply.complete(new WriteResult(batch.size(), 0));
        }

        void fail(RuntimeException e) {
            reply.completeExceptionally(e);
        }
    }

    final LinkedBlockingQueue<Write> writes = new LinkedBlockingQueue<>();
    final List<Message> landed = new CopyOnWriteArrayList<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    volatile boolean permits = true;
    /** When set, every write is answered at once by this function instead of waiting for the test. */
    volatile Function<Write, WriteResult> auto;

    @Override
    public CompletionStage<WriteResult> writeAsync(List<Message> batch, boolean replay) {
        Write w = new Write(List.copyOf(batch), replay, new CompletableFuture<>());
        Function<Write, WriteResult> a = auto;
        if (a != null) {
            try {
                WriteResult r = a.apply(w);
                return CompletableFuture.completedFuture(r);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        writes.add(w);
        return w.reply;
    }

    @Override
    public boolean permitsCalls() {
        return permits;
    }

    @Override
    public void onWritable(Runnable listener) {
        listeners.add(listener);
    }

    @Override
    public String blockedReason() {
        return permits ? "" : "fake sink blocked";
    }

    void allowCalls() {
        permits = true;
        listeners.forEach(Runnable::run);
    }

    /** The next write the router sends, within 5 s. */
    Write next() throws InterruptedException {
        Write w = writes.poll(5, TimeUnit.SECONDS);
        if (w == null) {
            throw new AssertionError("no write within 5 s");
        }
        return w;
    }

    private final java.util.Map<Long, Long> highWater = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Applies the batch as the real script does: per relay incarnation, a message at or below the
     * high-water mark is skipped, any other is pushed and raises the mark.
     */
    synchronized WriteResult applyDeduped(Write w) {
        int applied = 0;
        for (Message m : w.batch()) {
            long hw = highWater.getOrDefault(m.instance(), -1L);
            if (m.sequence() > hw) {
                landed.add(m);
                highWater.put(m.instance(), m.sequence());
                applied++;
            }
        }
        return new WriteResult(applied, w.batch().size() - applied);
    }
}
