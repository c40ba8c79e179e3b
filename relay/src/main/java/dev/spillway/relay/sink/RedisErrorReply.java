package dev.spillway.relay.sink;

/**
 * An error a Redis node answered, with its own line ({@code READONLY You can't write against a
 * read only replica.}, {@code NOSCRIPT ...}, the write script's {@code SPILLWAY-...}). The one
 * place that sorts such errors: {@link #isTransient()} says whether a moment can fix it (the
 * retry's question); everything else that fails a batch leaves its outcome unknown, and the
 * router spills it.
 *
 * <p>Immutable.
 */
public final class RedisErrorReply extends RuntimeException {

    /** Errors about the node's state that pass: a demoted or reloading master, a failover. */
    private static final String[] TRANSIENT = {"READONLY", "LOADING", "MASTERDOWN", "TRYAGAIN", "SPILLWAY-FENCE"};

    private final String error;

    public RedisErrorReply(String error) {
        super(error, null, false, false); // a reply, not a failure of this process: no stack trace
        this.error = error;
    }

    /** The node's line, as it sent it. */
    public String error() {
        return error;
    }

    /** True for errors a retry a moment later can get past (see {@link GuardedSink}). */
    public boolean isTransient() {
        for (String prefix : TRANSIENT) {
            if (error.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** True when {@code EVALSHA} found no script by that digest: nothing ran. */
    public boolean isNoScript() {
        return error.startsWith("NOSCRIPT");
    }
}
