package dev.spillway.relay.sink;

/**
 * Outcome of one acknowledged batch.
 *
 * @param applied messages pushed
 * @param skipped messages skipped as already applied (a replay of a batch that had landed)
 * @param deadLettered acknowledged messages Redis refused, put on the dead-letter list (replay only)
 * @param refusal in a direct write, the run Redis refused; the messages before it are applied,
 *     those after it in the batch were not sent. Null when nothing was refused.
 */
public record WriteResult(int applied, int skipped, int deadLettered, Refusal refusal) {

    public WriteResult(int applied, int skipped) {
        this(applied, skipped, 0, null);
    }

    /**
     * Redis refused messages {@code [firstSequence, firstSequence + count)} of relay incarnation
     * {@code instance} with {@code error} (its own error line, e.g. {@code WRONGTYPE ...}).
     */
    public record Refusal(long instance, long firstSequence, int count, String error) {

        public boolean covers(long instance, long sequence) {
            return this.instance == instance && sequence >= firstSequence && sequence < firstSequence + count;
        }
    }
}
