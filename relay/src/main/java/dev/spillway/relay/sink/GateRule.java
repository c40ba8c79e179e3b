package dev.spillway.relay.sink;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The write gate's rule (see {@link SentinelWatcher} for the rule and why it suffices): from
 * what each configured Sentinel said, either the master to open the gate on or why it stays
 * closed. It changes nothing; the watcher applies the decision. Stateless.
 */
final class GateRule {

    private GateRule() {}

    /**
     * What one configured Sentinel said.
     *
     * @param answering both its connections answered within {@code sink.redis.sentinelTimeout}
     * @param view its last complete poll, or null
     */
    record Heard(String address, boolean answering, SentinelView view) {}

    /**
     * The gate's next state.
     *
     * @param group the Sentinels in the group, as large as any Sentinel knows it
     * @param reason why the gate closes, or null when it opens
     * @param master host:port to open on (null when closing)
     * @param runId that master's run id (null when closing)
     * @param replicas the most healthy replicas any Sentinel of the majority lists
     * @param promotable every replica any Sentinel of the majority could promote (host:port)
     */
    record Decision(int group, String reason, String master, String runId, int replicas,
            java.util.Set<String> promotable) {

        static Decision close(int group, String reason) {
            return new Decision(group, reason, null, null, 0, java.util.Set.of());
        }

        boolean open() {
            return reason == null;
        }
    }

    /**
     * Decides the gate from {@code sentinels}.
     *
     * @param lastTroubleNanos when trouble was last seen: only views polled after it count
     * @param pendingEpoch the highest failover epoch voted on or announced, first heard at
     *     {@code pendingEpochNanos}
     * @param probedRunId the run id of a master whose Sentinels do not know it yet, or null
     *     (asking may start a probe)
     */
    static Decision decide(List<Heard> sentinels, long now, long lastTroubleNanos, long pendingEpoch,
            long pendingEpochNanos, Function<String, String> probedRunId) {
        int answering = 0;
        int group = sentinels.size();
        long failoverTimeoutNanos = 0;
        Map<String, Integer> agree = new HashMap<>();
        Map<String, Integer> replicas = new HashMap<>();
        Map<String, java.util.Set<String>> promotable = new HashMap<>();
        Map<String, Long> epochs = new HashMap<>();
        String trouble = null;
        String stale = null;
        for (Heard l : sentinels) {
            if (!l.answering()) {
                continue;
            }
            answering++;
            SentinelView v = l.view();
            if (v == null || v.polledAtNanos() - lastTroubleNanos < 0) {
                stale = "waiting for Sentinel " + l.address() + " to answer after the last event";
                continue;
            }
            group = Math.max(group, v.otherSentinels() + 1);
            failoverTimeoutNanos = Math.max(failoverTimeoutNanos, v.failoverTimeoutNanos());
            String runId = v.runId() == null || v.runId().isEmpty() ? probedRunId.apply(v.address()) : v.runId();
            if (!v.flags().equals("master") || runId == null || v.healthyReplicas() < 0) {
                String what = "Sentinel " + l.address() + " reports master " + v.address() + " flags '" + v.flags()
                        + "'" + (runId == null ? " without a run id yet" : "")
                        + (v.healthyReplicas() < 0 ? " and could not list its replicas" : "");
                if (blocksWrites(v.flags())) {
                    trouble = what;
                } else {
                    stale = what; // one Sentinel that cannot see the master does not start a failover alone
                }
                continue;
            }
            String key = v.address() + " " + runId;
            agree.merge(key, 1, Integer::sum);
            replicas.merge(key, v.healthyReplicas(), Math::max);
            promotable.computeIfAbsent(key, k -> new java.util.TreeSet<>()).addAll(v.promotable());
            epochs.merge(key, v.configEpoch(), Math::min);
        }
        // the majority of the whole group, not just of the Sentinels configured here: a majority of
        // a subset need not intersect the majority that votes a failover through
        int majority = group / 2 + 1;
        if (answering < majority) {
            return Decision.close(group, "only " + answering + " of " + group
                    + " Sentinels answer (a majority, " + majority + ", is needed)");
        }
        if (trouble != null) {
            return Decision.close(group, trouble);
        }
        for (Map.Entry<String, Integer> e : agree.entrySet()) {
            if (e.getValue() >= majority) {
                String[] f = e.getKey().split(" ");
                long epoch = epochs.get(e.getKey());
                if (epoch < pendingEpoch && now - pendingEpochNanos < Math.max(failoverTimeoutNanos, 1)) {
                    // Sentinels voted in a failover of epoch pendingEpoch, and the master they name has
                    // an older configuration: the leader may be promoting a replica that some of them
                    // have not heard of yet. Wait until the new configuration reaches them, or until the
                    // failover must have been given up (failover-timeout).
                    return Decision.close(group, "a failover of epoch " + pendingEpoch
                            + " was voted on and the Sentinels still name " + f[0] + " of config epoch " + epoch);
                }
                return new Decision(group, null, f[0], f[1], replicas.get(e.getKey()),
                        java.util.Set.copyOf(promotable.get(e.getKey())));
            }
        }
        return Decision.close(group, stale != null ? "no majority agrees on a healthy master yet (" + stale + ")"
                : "Sentinels disagree about the master: " + agree.keySet());
    }

    /**
     * Flags of a master in one Sentinel's view that forbid writes whatever the others say: a
     * failover is under way or agreed. {@code s_down} or {@code disconnected} alone (one
     * Sentinel cannot reach the master) only keeps that Sentinel out of the majority: a
     * failover would need others to agree, and their votes are published.
     */
    static boolean blocksWrites(String flags) {
        for (String f : flags.split(",")) {
            if (!f.equals("master") && !f.equals("s_down") && !f.equals("disconnected")) {
                return true;
            }
        }
        return false;
    }
}
