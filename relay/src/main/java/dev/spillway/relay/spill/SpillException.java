package dev.spillway.relay.spill;

/** Base of the spill log's own failures; the message always names the reason. */
public class SpillException extends RuntimeException {

    public SpillException(String message) {
        super(message);
    }

    public SpillException(String message, Throwable cause) {
        super(message, cause);
    }
}
