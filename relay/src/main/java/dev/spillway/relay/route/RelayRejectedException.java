package dev.spillway.relay.route;

/**
 * The relay refused a message before acknowledging it; {@link #reason()} is a short token the
 * ingress puts in front of the error text (e.g. {@code -BUSY}, {@code ERR shutting-down}).
 */
public final class RelayRejectedException extends RuntimeException {

    public enum Reason {
        /** The spill log holds {@code spill.maxBytes}: retry later or elsewhere. */
        SPILL_FULL,
        /** The disk under the spill log is full: retry later or elsewhere. */
        SPILL_DISK_FULL,
        SPILL_FAILED,
        /**
         * Not a refusal: the spill log failed mid-write and could not cut the message off again,
         * so it may still be delivered. The ingress closes the connection without a reply, as a
         * crash would, so that no producer takes it for a refusal.
         */
        OUTCOME_UNKNOWN,
        SHUTTING_DOWN,
        /**
         * Redis refused the message itself, and retrying cannot change that (a key holding another
         * type: {@code WRONGTYPE}). The message text is Redis's own error reply, starting with its
         * error code, so RESP ingress can pass it on unchanged ({@code -WRONGTYPE Operation
         * against a key holding the wrong kind of value}).
         */
        REDIS_REFUSED
    }

    private final Reason reason;

    public RelayRejectedException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
