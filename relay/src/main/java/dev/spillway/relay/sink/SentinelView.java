package dev.spillway.relay.sink;

/**
 * One poll of a Sentinel's view of the master.
 *
 * @param healthyReplicas replicas listed with no flag but {@code slave}; -1 when the Sentinel
 *     could not list them (the view then cannot open the gate: {@code all} would be guessed)
 * @param configEpoch the master's configuration epoch (a successful failover raises it)
 * @param otherSentinels how many other Sentinels this one knows for the master
 * @param promotable the healthy replicas (host:port, as the master names them) this Sentinel
 *     could promote: not {@code replica-priority 0}, and not cut off from the master longer than
 *     ten {@code down-after-milliseconds} (Sentinel's own rule in choosing a replica)
 */
record SentinelView(long polledAtNanos, String address, String runId, String flags, int healthyReplicas,
        long configEpoch, int otherSentinels, long failoverTimeoutNanos, java.util.Set<String> promotable) {

    SentinelView(long polledAtNanos, String address, String runId, String flags, int healthyReplicas,
            long configEpoch, int otherSentinels, long failoverTimeoutNanos) {
        this(polledAtNanos, address, runId, flags, healthyReplicas, configEpoch, otherSentinels, failoverTimeoutNanos,
                java.util.Set.of());
    }
}
