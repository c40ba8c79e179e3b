package dev.spillway.relay.sink;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the relay may count a Redis write as done, and on which master.
 *
 * <h2>Why a gate and an epoch</h2>
 * A batch acknowledged by the master and by {@code WAIT n} replicas can still vanish: when the
 * master was frozen and resumes just as Sentinel promotes a replica, or when an operator runs
 * {@code SENTINEL FAILOVER}, the old master and the replica that still follows it go on taking
 * (and confirming) writes until Sentinel re-points them; then both resynchronise from the new
 * master and those writes are gone. Nothing in the reply tells the relay. What does tell it is
 * Sentinel: no failover can happen without Sentinels publishing it, and an automatic failover
 * needs the votes of a majority of them.
 *
 * <p>So the {@link SentinelWatcher} keeps this gate: it is <b>open</b> only while a majority of
 * the configured Sentinels answer, every one of them that answers names the same master with no
 * trouble flags, and no Sentinel has reported anything about that master since. Any sign of
 * trouble — an event about the master, a failover step, a vote, too few Sentinels answering —
 * closes it and advances the <b>epoch</b>. A write counts as done only if the gate was open when
 * it was sent and the epoch is still the same when its reply arrives; otherwise its outcome is
 * unknown and the caller spills it (replay is idempotent, so a write that did land is not
 * pushed twice). A majority the relay hears from intersects the majority any automatic failover
 * needs, so some Sentinel the relay hears from takes part in it and publishes it.
 *
 * <p>While open, the gate also names the master's run id ({@link State#runId}): the write script
 * checks it on the node it runs on, so a write can only land on the node the Sentinels name —
 * never on a resumed old master that Redisson has not yet switched away from.
 *
 * <p>Thread-safe: the state is one immutable snapshot behind a volatile reference; changes are
 * serialised by the watcher (one event loop) and by {@code synchronized}.
 */
public final class WriteGate {

    private static final Logger LOG = LoggerFactory.getLogger(WriteGate.class);

    /**
     * One immutable view of the gate.
     *
     * @param open writes may be sent
     * @param epoch advances on every change; a write compares the epoch at its send and at its reply
     * @param master host:port of the master the gate is open for (null when closed)
     * @param runId that master's run id, checked by the write script (null when closed)
     * @param replicas healthy replicas the Sentinels list for it (for {@code minReplicas: all})
     * @param reason why the gate is closed, or what it is open on, for logs and {@code /health}
     * @param promotable the replicas (host:port, as the master names them) a Sentinel of the
     *     majority could promote: under {@code minReplicas: all} every one must be among those
     *     that confirmed a batch
     */
    public record State(boolean open, long epoch, String master, String runId, int replicas, String reason,
            Set<String> promotable) {

        /** A state that names no replicas to check one by one (their count only). */
        public State(boolean open, long epoch, String master, String runId, int replicas, String reason) {
            this(open, epoch, master, runId, replicas, reason, Set.of());
        }
    }

    private final List<Consumer<State>> listeners = new CopyOnWriteArrayList<>();
    private volatile State state = new State(false, 0, null, null, 0, "no Sentinel has answered yet");
    private volatile long closings;

    public State state() {
        return state;
    }

    /** True when the gate is open and its epoch is still {@code epoch}. */
    public boolean stillOpen(long epoch) {
        State s = state;
        return s.open && s.epoch == epoch;
    }

    /** How many times the gate has closed since start. */
    public long closings() {
        return closings;
    }

    /** Called after every change, with the new state, on the thread that made it. */
    public void addListener(Consumer<State> listener) {
        listeners.add(listener);
    }

    /** Closes the gate (if open) and advances the epoch in any case: in-flight writes become unknown. */
    public void close(String reason) {
        State next;
        synchronized (this) {
            State s = state;
            next = new State(false, s.epoch + 1, null, null, s.replicas, reason);
            state = next;
            if (s.open) {
                closings++;
                LOG.warn("Write gate closed (epoch {}): {}", next.epoch, reason);
            }
        }
        notifyListeners(next);
    }

    /**
     * Opens the gate on {@code master}; advances the epoch when the master, run id or replica
     * count changes (or the gate was closed). Does nothing when it is already open on the same.
     */
    public void open(String master, String runId, int replicas) {
        open(master, runId, replicas, Set.of());
    }

    /**
     * As {@link #open(String, String, int)}, naming the replicas the Sentinels could promote; a
     * change of them advances the epoch too.
     */
    public void open(String master, String runId, int replicas, Set<String> promotable) {
        Objects.requireNonNull(master, "master");
        Objects.requireNonNull(runId, "runId");
        State next;
        synchronized (this) {
            State s = state;
            if (s.open && master.equals(s.master) && runId.equals(s.runId) && replicas == s.replicas
                    && promotable.equals(s.promotable)) {
                return;
            }
            next = new State(true, s.epoch + 1, master, runId, replicas, "open on " + master, Set.copyOf(promotable));
            state = next;
            if (!s.open || !master.equals(s.master)) {
                LOG.info("Write gate open on master {} (run id {}, {} healthy replicas, epoch {}); was: {}", master,
                        runId, replicas, next.epoch, s.reason);
            }
        }
        notifyListeners(next);
    }

    private void notifyListeners(State s) {
        for (Consumer<State> l : listeners) {
            try {
                l.accept(s);
            } catch (RuntimeException e) {
                LOG.warn("Write gate listener {} failed", l, e);
            }
        }
    }
}
