package dev.spillway.chaos.workload;

import dev.spillway.chaos.check.ListCheck;
import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One producer connection sending {@code p<id>-<seq>} values in sequence order, one at a time,
 * at a fixed rate, and recording every outcome: acknowledged, refused with an error (visible to
 * the producer), or unknown. An unknown outcome — the connection broke before the reply — is
 * resolved the way a careful client does: reconnect (through the load balancer) and send the
 * same message again; such messages are recorded as re-sent, since they may legitimately land
 * twice. Stops by itself after {@code maxMessages} or when stopped.
 *
 * <p>Thread-safe for readers; the sending runs on its own thread.
 */
public abstract class Producer implements Runnable {

    public enum Phase { STEADY, FAULT, RECOVERY }

    final int id;
    private final int ratePerSecond;
    private final long maxMessages;
    private volatile boolean stop;
    private volatile Phase phase = Phase.STEADY;
    final Set<Long> acked = ConcurrentHashMap.newKeySet();
    final Set<Long> resent = ConcurrentHashMap.newKeySet();
    /** Sequences the relay refused with an error reply (none of them may land). */
    final Set<Long> refused = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
    /** The errors seen while no fault was being injected (phase steady or recovery). */
    private final ConcurrentLinkedQueue<String> errorsOutsideFaults = new ConcurrentLinkedQueue<>();
    final AtomicLong sent = new AtomicLong();
    final AtomicLong reconnects = new AtomicLong();
    /** The first sequence sent on each connection after the first (sorted; appended by the sender only). */
    final java.util.concurrent.CopyOnWriteArrayList<Long> epochStarts = new java.util.concurrent.CopyOnWriteArrayList<>();
    final LatencyRecorder latency;

    private String prefix = "";
    private boolean connections; // sender thread only: a connection was opened before
    private boolean newConnection; // sender thread only

    /**
     * A subclass calls this whenever it opens a connection: from the second one on, the value
     * being sent starts a new connection epoch (order holds per connection), also when the
     * connection was replaced without an error (a server that closed it after a reply).
     */
    protected final void openedConnection() {
        if (connections) {
            newConnection = true;
        }
        connections = true;
    }

    protected Producer(int id, int ratePerSecond, long maxMessages, LatencyRecorder latency) {
        this.id = id;
        this.ratePerSecond = ratePerSecond;
        this.maxMessages = maxMessages;
        this.latency = latency;
    }

    /** Sends one value and waits for its reply: true = acked; an exception = outcome unknown. */
    protected abstract boolean send(String value) throws IOException, RefusedException;

    /** Drops the current connection; the next send opens a new one. */
    protected abstract void reconnect();

    /** Closes whatever is open. */
    protected abstract void close();

    public abstract String protocol();

    /** The relay refused the message with an error reply: the producer saw it. */
    public static final class RefusedException extends Exception {
        public RefusedException(String message) {
            super(message);
        }
    }

    @Override
    public void run() {
        long start = System.nanoTime();
        try {
            for (long seq = 0; seq < maxMessages && !stop; seq++) {
                long due = start + seq * 1_000_000_000L / ratePerSecond;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                String value = prefix + ListCheck.value(id, seq);
                sent.set(seq + 1);
                long t0 = System.nanoTime();
                int attempts = 0;
                while (true) {
                    try {
                        if (attempts > 0 && (epochStarts.isEmpty() || epochStarts.get(epochStarts.size() - 1) != seq)) {
                            epochStarts.add(seq); // after a reconnect: this and what follows use a new connection
                        }
                        boolean ok;
                        try {
                            ok = send(value);
                        } finally {
                            if (newConnection) {
                                newConnection = false;
                                if (epochStarts.isEmpty() || epochStarts.get(epochStarts.size() - 1) != seq) {
                                    epochStarts.add(seq);
                                }
                            }
                        }
                        if (ok) {
                            acked.add(seq);
                            latency.record(phase, System.nanoTime() - t0);
                        }
                        break;
                    } catch (RefusedException e) {
                        refused(seq, value + ": " + e.getMessage());
                        break;
                    } catch (IOException | RuntimeException unknown) {
                        resent.add(seq);
                        reconnects.incrementAndGet();
                        reconnect();
                        if (++attempts > 600 || stop) { // 30 s of trying: give up on this one, visibly
                            error(value + ": no reply after " + attempts + " attempts: " + unknown);
                            break;
                        }
                        TimeUnit.MILLISECONDS.sleep(50);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            close();
        }
    }

    /** The relay refused sequence {@code seq} with an error reply, {@code text} naming the value and the reply. */
    final void refused(long seq, String text) {
        refused.add(seq);
        error(text);
    }

    /** A producer-visible error: a refusal, or an outcome that stayed unknown however long it tried. */
    final void error(String text) {
        errors.add(text);
        if (phase != Phase.FAULT) {
            errorsOutsideFaults.add(text);
        }
    }

    /** Written in front of every value, so that runs sharing a list can tell their values apart. */
    public void prefix(String p) {
        prefix = p;
    }

    protected String prefix() {
        return prefix;
    }

    protected boolean stopping() {
        return stop;
    }

    protected Phase phase() {
        return phase;
    }

    /**
     * The lists this producer writes, each mapped to true when it pushes with LPUSH (its values
     * stand in reverse); empty for a producer that writes the workload's one key with RPUSH.
     */
    public java.util.Map<String, Boolean> lists() {
        return java.util.Map.of();
    }

    /** Which list each sequence was sent to, or null when every value goes to the workload's one key. */
    public java.util.function.LongFunction<String> keyOf() {
        return null;
    }

    /** The most commands this producer had awaiting replies on one connection at once (1 for one-at-a-time). */
    public int maxInFlight() {
        return sent.get() > 0 ? 1 : 0;
    }

    public void stop() {
        stop = true;
    }

    public void phase(Phase p) {
        phase = p;
    }

    public int id() {
        return id;
    }

    public Set<Long> acked() {
        return acked;
    }

    public Set<Long> resent() {
        return resent;
    }

    public long sent() {
        return sent.get();
    }

    public java.util.List<String> errors() {
        return java.util.List.copyOf(errors);
    }

    /** The errors this producer saw while no fault was being injected. */
    public java.util.List<String> errorsOutsideFaults() {
        return java.util.List.copyOf(errorsOutsideFaults);
    }

    public Set<Long> refused() {
        return refused;
    }

    public java.util.List<Long> epochStarts() {
        return java.util.List.copyOf(epochStarts);
    }

    public long reconnects() {
        return reconnects.get();
    }
}
