package dev.spillway.relay.sink;

/**
 * The master applied a batch but fewer replicas than {@code sink.ack.minReplicas} confirmed it
 * within {@code sink.ack.waitTimeout}. The batch's fate across a failover is unknown, so it is
 * treated as not written (spilled and replayed; the replay is deduplicated).
 */
public final class ReplicationShortfallException extends RuntimeException {

    public ReplicationShortfallException(int synced, int required) {
        super("WAIT: " + synced + " of " + required + " required replicas confirmed the write (sink.ack.minReplicas)");
    }

    /** A replica the batch had to reach did not confirm it, whatever the count ({@code minReplicas: all}). */
    public ReplicationShortfallException(String why) {
        super(why);
    }
}
