package dev.spillway.relay.spill;

/**
 * Thrown by {@link SpillLog#append} when the message would take the log over its configured
 * size. Nothing already in the log is touched; room returns as replay commits.
 */
public final class SpillFullException extends SpillException {

    private final long maxBytes;

    public SpillFullException(long maxBytes, long pendingBytes, int recordBytes) {
        super("spill log full: " + pendingBytes + " of " + maxBytes + " bytes pending, a " + recordBytes
                + "-byte record does not fit (spill.maxBytes)");
        this.maxBytes = maxBytes;
    }

    public long maxBytes() {
        return maxBytes;
    }
}
