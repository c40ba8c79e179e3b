package dev.spillway.relay.sink;

/**
 * A write was not counted as done because the {@link WriteGate} was closed when it was to be
 * sent (nothing was sent) or changed epoch before its reply (its outcome is unknown). Either
 * way the caller spills the batch; the breaker ignores this (Redis did nothing wrong).
 */
public final class WriteGateException extends RuntimeException {

    private final boolean sent;

    public WriteGateException(String message, boolean sent) {
        super(message, null, false, false);
        this.sent = sent;
    }

    /** True when the batch was sent (and may have landed). */
    public boolean sent() {
        return sent;
    }
}
