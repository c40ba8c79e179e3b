package dev.spillway.chaos.writepath;

import dev.spillway.chaos.check.ListCheck;
import dev.spillway.relay.Message;
import dev.spillway.relay.route.Router;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Producers pushing straight into a {@link Router}, each like one pipelining connection: values
 * {@code p<i>-<seq>} in sequence order, up to {@code window} unacknowledged at a time, every
 * ack and every error recorded. Stops by itself at {@code maxMessages} per producer.
 */
final class RouterLoad {

    private final Router router;
    private final String key;
    private final int producers;
    private final int window;
    private final long maxMessages;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stop;
    final Map<Integer, Set<Long>> acked = new ConcurrentHashMap<>();
    final Map<Integer, Long> sent = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    final AtomicLong ackCount = new AtomicLong();

    private final int ratePerProducer;

    /** {@code ratePerProducer} messages per second at most (0 = as fast as acks come). */
    RouterLoad(Router router, String key, int producers, int window, long maxMessages, int ratePerProducer) {
        this.ratePerProducer = ratePerProducer;
        this.router = router;
        this.key = key;
        this.producers = producers;
        this.window = window;
        this.maxMessages = maxMessages;
    }

    RouterLoad start() {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        for (int p = 0; p < producers; p++) {
            int producer = p;
            Set<Long> mine = ConcurrentHashMap.newKeySet();
            acked.put(producer, mine);
            Thread t = new Thread(() -> {
                Semaphore slots = new Semaphore(window);
                long seq = 0;
                long startNanos = System.nanoTime();
                try {
                    for (; seq < maxMessages && !stop; seq++) {
                        if (ratePerProducer > 0) {
                            long due = startNanos + seq * 1_000_000_000L / ratePerProducer;
                            long wait = due - System.nanoTime();
                            if (wait > 0) {
                                TimeUnit.NANOSECONDS.sleep(wait);
                            }
                        }
                        if (!slots.tryAcquire(30, TimeUnit.SECONDS)) {
                            errors.add("producer " + producer + " starved: no ack for 30 s");
                            break;
                        }
                        long s = seq;
                        byte[] v = ListCheck.value(producer, s).getBytes(StandardCharsets.UTF_8);
                        sent.put(producer, s + 1);
                        router.submit(Message.ListOp.RPUSH, k, List.of(v)).whenComplete((ok, err) -> {
                            if (err == null) {
                                mine.add(s);
                                ackCount.incrementAndGet();
                            } else {
                                errors.add(ListCheck.value(producer, s) + ": " + err.getMessage());
                            }
                            slots.release();
                        });
                    }
                    slots.tryAcquire(window, 60, TimeUnit.SECONDS); // wait for the last acks
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "producer-" + p);
            t.start();
            threads.add(t);
        }
        return this;
    }

    /** Waits until {@code n} more acks arrived (bounded). */
    void awaitAcks(long n, long timeoutMillis) throws InterruptedException {
        long target = ackCount.get() + n;
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (ackCount.get() < target && System.currentTimeMillis() < deadline) {
            TimeUnit.MILLISECONDS.sleep(10);
        }
    }

    /** Stops the producers (each finishes waiting for its outstanding acks) and joins them. */
    void stopAndJoin() throws InterruptedException {
        stop = true;
        join();
    }

    /** Waits (bounded) for the producers to send all {@code maxMessages} and collect the acks. */
    void join() throws InterruptedException {
        for (Thread t : threads) {
            t.join(90_000);
        }
    }
}
