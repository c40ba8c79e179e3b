package dev.spillway.chaos.run;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
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
    ALL_REDIS_DOWN,
    /**
     * SIGSTOP (docker pause) the master, with a subscription to {@code +promoted-slave} on every
     * Sentinel taken first; SIGCONT it the moment the first Sentinel announces the promotion. The
     * old master wakes up still a master, with whatever its clients sent while it was frozen in
     * its buffers and its other replica still following it, while the new master takes writes.
     * Then waits until the Sentinels agree on the new master and the old one is back as a replica.
     */
    PAUSE_UNTIL_PROMOTION,
    /**
     * {@code SENTINEL FAILOVER mymaster} on a Sentinel chosen at random (an operator's
     * switch-over: the master is alive and taking writes throughout); {@code -INPROG} and
     * {@code -NOGOODSLAVE} are retried, bounded. Waits until the Sentinels agree on the new master
     * and the old one is back as a replica.
     */
    MANUAL_FAILOVER,
    /**
     * SIGSTOP two of the three Sentinels for 3 s, then SIGCONT: no relay can hear a majority, so
     * none may count a write as done — each must spill meanwhile (the fault says which relays'
     * {@code /health} showed SPILL). Waits until every Sentinel answers and none is in TILT
     * (which a Sentinel enters after such a gap, and in which it does not vote for 30 s).
     */
    FREEZE_SENTINEL_MAJORITY,
    /**
     * Every relay's own spill disk filled to 1 MiB free, then both replicas frozen (no failover:
     * the master cannot confirm a write) until every relay has spilled into that space and
     * reported {@code full}; the replicas resume while the disks are still full, and each relay
     * must drain its spill completely all the same; then the filler goes and every relay must be
     * {@code ok}. See {@link SpillDiskFull}; needs {@link Topology#spillDisk} for every relay.
     */
    SPILL_DISK_FULL;

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
            case PAUSE_UNTIL_PROMOTION -> pauseUntilPromotion(t);
            case MANUAL_FAILOVER -> manualFailover(t, random);
            case FREEZE_SENTINEL_MAJORITY -> freezeSentinelMajority(t, random, Duration.ofSeconds(3));
            case SPILL_DISK_FULL -> SpillDiskFull.inject(t, SpillDiskFull.Options.defaults());
        };
    }

    static final Duration REJOIN_TIMEOUT = Duration.ofSeconds(60);

    /** {@link #PAUSE_UNTIL_PROMOTION}. */
    public static String pauseUntilPromotion(Topology t) throws IOException {
        String m = t.currentMaster();
        if (m == null) {
            throw new IOException("no master named by the Sentinels");
        }
        long frozenAt;
        String announcement;
        long resumedAfter;
        List<String> watched;
        try (SentinelProbe.Watch watch = SentinelProbe.Watch.open(t, "+promoted-slave", () -> t.resume(m),
                Duration.ofSeconds(3))) {
            watched = watch.subscribed();
            frozenAt = System.nanoTime();
            t.freeze(m);
            boolean promoted;
            try {
                promoted = watch.await(FAILOVER_TIMEOUT);
            } finally {
                watch.fireNow("no +promoted-slave"); // resumes unless the announcement already did
            }
            if (!promoted) {
                throw new IOException("SIGSTOP " + m + ": no Sentinel of " + watched + " announced +promoted-slave within "
                        + FAILOVER_TIMEOUT + "; resumed");
            }
            announcement = watch.first();
            resumedAfter = (watch.firedAtNanos() - frozenAt) / 1_000_000;
        }
        String now = t.awaitFailoverFrom(m, FAILOVER_TIMEOUT);
        long rejoined = SentinelProbe.awaitReplicaOf(t, m, now, REJOIN_TIMEOUT);
        t.awaitHealthy(FAILOVER_TIMEOUT);
        return "SIGSTOP " + m + ", SIGCONT " + resumedAfter + " ms later on " + shortEvent(announcement)
                + "; Sentinels agreed on " + now + ", " + m + " a replica again " + rejoined + " ms after that";
    }

    /** {@link #MANUAL_FAILOVER}. */
    public static String manualFailover(Topology t, Random random) throws IOException {
        List<String> sentinels = t.sentinelNodes();
        String s = sentinels.get(random.nextInt(sentinels.size()));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        List<String> refusals = new ArrayList<>();
        while (true) {
            // the master every Sentinel agrees on, with a replica online: not a stale name from the
            // one Sentinel asked while an earlier fault is still settling
            String m = t.awaitHealthy(FAILOVER_TIMEOUT);
            String answer;
            try (redis.clients.jedis.Jedis j = SentinelProbe.jedis(t, s, 2000)) {
                answer = j.sentinelFailover(SentinelProbe.MASTER_NAME);
            } catch (redis.clients.jedis.exceptions.JedisDataException e) {
                answer = e.getMessage();
            } catch (RuntimeException e) {
                answer = "no answer: " + e.getMessage();
            }
            if ("OK".equals(answer) && m != null) {
                String now;
                try {
                    now = t.awaitFailoverFrom(m, Duration.ofSeconds(15));
                } catch (IOException aborted) {
                    // Sentinel accepted it but the failover did not complete (it aborts after failover-timeout)
                    refusals.add("OK, but no failover from " + m + " within 15 s");
                    if (System.nanoTime() > deadline) {
                        throw new IOException("SENTINEL FAILOVER on " + s + ": " + refusals, aborted);
                    }
                    continue;
                }
                long rejoined = SentinelProbe.awaitReplicaOf(t, m, now, REJOIN_TIMEOUT);
                t.awaitHealthy(FAILOVER_TIMEOUT);
                return "SENTINEL FAILOVER on " + s + (refusals.isEmpty() ? "" : " (after " + refusals.size()
                        + " refusals: " + refusals.get(refusals.size() - 1) + ")") + ": " + m + " -> " + now + ", " + m
                        + " a replica again " + rejoined + " ms after the switch";
            }
            refusals.add(answer);
            boolean retryable = answer != null && (answer.startsWith("INPROG") || answer.startsWith("NOGOODSLAVE")
                    || answer.startsWith("no answer"));
            if (!retryable || System.nanoTime() > deadline) {
                throw new IOException("SENTINEL FAILOVER " + SentinelProbe.MASTER_NAME + " on " + s + " refused: "
                        + refusals);
            }
            sleep(500);
        }
    }

    /** {@link #FREEZE_SENTINEL_MAJORITY}, the Sentinels frozen for {@code length}. */
    public static String freezeSentinelMajority(Topology t, Random random, Duration length) throws IOException {
        List<String> sentinels = new ArrayList<>(t.sentinelNodes());
        java.util.Collections.shuffle(sentinels, random);
        List<String> frozen = List.copyOf(sentinels.subList(0, sentinels.size() / 2 + 1));
        List<String> done = new ArrayList<>();
        java.util.Set<String> spilled = new java.util.TreeSet<>();
        java.util.Set<String> seen = new java.util.TreeSet<>();
        try {
            for (String s : frozen) {
                t.freeze(s);
                done.add(s);
            }
            // watch the relays meanwhile: none can hear a majority, so none may count a write as done
            long end = System.nanoTime() + length.toNanos();
            while (System.nanoTime() < end) {
                t.relayHealth().forEach((relay, h) -> {
                    seen.add(relay);
                    if ("SPILL".equals(h.get("mode"))) {
                        spilled.add(relay);
                    }
                });
                sleep(Math.max(1, Math.min(100, (end - System.nanoTime()) / 1_000_000)));
            }
        } finally {
            for (String s : done) {
                t.resume(s);
            }
        }
        long tilt = SentinelProbe.awaitNoTilt(t, Duration.ofSeconds(90));
        String m = t.awaitHealthy(FAILOVER_TIMEOUT);
        java.util.Set<String> direct = new java.util.TreeSet<>(seen);
        direct.removeAll(spilled);
        return "SIGSTOP " + String.join(", ", frozen) + " for " + length.toMillis() + " ms, then SIGCONT; "
                + (direct.isEmpty() ? SPILLED_ON_EVERY_RELAY + " " + spilled
                        : "NOT every relay spilled: " + direct + " showed DIRECT throughout (writing directly, or idle), "
                                + "spilled " + spilled)
                + "; TILT over " + tilt + " ms later; master " + m;
    }

    /** What {@link #freezeSentinelMajority} reports when every relay it saw spilled during the freeze. */
    public static final String SPILLED_ON_EVERY_RELAY = "every relay spilled during the freeze:";

    private static String shortEvent(String e) {
        return e == null ? "?" : e.length() > 90 ? e.substring(0, 90) + "…" : e;
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
