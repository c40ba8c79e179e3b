package dev.spillway.chaos.run;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The faults the chaos suite injects. Master faults always chase the current master through
 * Sentinel; each fault waits for the topology to settle (a new master agreed, the faulted node
 * back) before returning, and says what it did.
 */
public enum Fault {
    /** SIGKILL the master; once Sentinel promoted a replica, restart it (it rejoins as a replica). */
    KILL_MASTER,
    /** SIGSTOP the master past down-after-milliseconds; SIGCONT it after the failover (the two-master window). */
    PAUSE_MASTER,
    /** {@code SHUTDOWN NOSAVE} the master; restart it after the failover. */
    SHUTDOWN_MASTER,
    /** SIGKILL a relay (its spill directory survives) and start it again. */
    KILL_RELAY,
    /** SIGKILL a Sentinel and start it again (two of three keep the quorum). */
    KILL_SENTINEL,
    /** Every Redis node down (SHUTDOWN, persisting) for a few seconds, then all back. */
    ALL_REDIS_DOWN;

    static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(45);

    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Fault parse(String s) {
        return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** "kill-master+kill-relay" → both, injected together. */
    public static List<Fault> parseCombination(String spec) {
        return Arrays.stream(spec.split("\\+")).map(Fault::parse).toList();
    }

    /** Injects the fault and waits for the topology to settle; returns a description of what happened. */
    public String inject(Topology t, Random random) throws IOException {
        return switch (this) {
            case KILL_MASTER -> {
                String m = t.currentMaster();
                t.kill(m);
                String now = t.awaitFailoverFrom(m, FAILOVER_TIMEOUT);
                t.restart(m);
                yield "SIGKILL " + m + ", Sentinel promoted " + now + ", " + m + " restarted";
            }
            case PAUSE_MASTER -> {
                String m = t.currentMaster();
                t.freeze(m);
                String now;
                try {
                    now = t.awaitFailoverFrom(m, FAILOVER_TIMEOUT);
                    sleep(500); // producers write to the new master while the old one still thinks it leads
                } finally {
                    t.resume(m);
                }
                yield "SIGSTOP " + m + ", Sentinel promoted " + now + ", SIGCONT " + m;
            }
            case SHUTDOWN_MASTER -> {
                String m = t.currentMaster();
                t.shutdownNoSave(m);
                String now = t.awaitFailoverFrom(m, FAILOVER_TIMEOUT);
                t.restart(m);
                yield "SHUTDOWN NOSAVE " + m + ", Sentinel promoted " + now + ", " + m + " restarted";
            }
            case KILL_RELAY -> {
                List<String> relays = t.relayNodes();
                yield killThenRestart(t, relays.get(random.nextInt(relays.size())), Duration.ofSeconds(1))
                        + " on its spill directory";
            }
            case KILL_SENTINEL -> {
                List<String> sentinels = t.sentinelNodes();
                yield killThenRestart(t, sentinels.get(random.nextInt(sentinels.size())), Duration.ofMillis(1500));
            }
            case ALL_REDIS_DOWN -> allRedisDownFor(t, Duration.ofSeconds(3));
        };
    }

    /** SIGKILL {@code node}, leave it dead for {@code down} (the fault's length), then start it again. */
    public static String killThenRestart(Topology t, String node, Duration down) throws IOException {
        t.kill(node);
        sleep(down.toMillis());
        t.restart(node);
        return "SIGKILL " + node + ", restarted after " + down.toMillis() + " ms";
    }

    /** Every Redis node down (SHUTDOWN, persisting) for {@code down}, then all started again. */
    public static String allRedisDownFor(Topology t, Duration down) throws IOException {
        for (String n : t.redisNodes()) {
            t.shutdown(n);
        }
        sleep(down.toMillis());
        for (String n : t.redisNodes()) {
            t.restart(n);
        }
        return "all Redis nodes down for " + down.toMillis() + " ms (SHUTDOWN), then restarted";
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
