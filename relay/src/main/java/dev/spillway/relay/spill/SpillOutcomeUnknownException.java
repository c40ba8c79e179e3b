package dev.spillway.relay.spill;

/**
 * The spill log failed while writing this message and could not cut it off again (the disk
 * refused even the repair): it was not acknowledged, yet it may still be on disk and be
 * replayed once the log is reopened. Its outcome is unknown, as that of a request whose reply a
 * crash swallowed, and it must be treated that way: not as a refusal.
 */
public final class SpillOutcomeUnknownException extends SpillException {

    public SpillOutcomeUnknownException(Throwable cause) {
        super("spill log failed while writing this message and could not cut it off again; it may be "
                + "delivered once the log is reopened: " + cause, cause);
    }
}
