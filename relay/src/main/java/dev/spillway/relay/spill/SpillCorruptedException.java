package dev.spillway.relay.spill;

/**
 * Thrown when a record that recovery accepted no longer checks out on a later read. The
 * reader refuses to hand out such a record; reopening the log recovers up to the damage.
 */
public final class SpillCorruptedException extends SpillException {

    public SpillCorruptedException(String message) {
        super(message);
    }
}
