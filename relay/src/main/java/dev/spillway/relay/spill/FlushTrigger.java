package dev.spillway.relay.spill;

/** Why the spill writer fsync'd; each counted ({@code SpillLog.flush.<metric>}). */
enum FlushTrigger {
    QUEUE_EMPTY("queue-empty"), BYTES("bytes"), MAX_WAIT("max-wait"), ROLL("roll");

    final String metric;

    FlushTrigger(String metric) {
        this.metric = metric;
    }
}
