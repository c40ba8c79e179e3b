package dev.spillway.relay;

import java.util.Locale;

/**
 * What a relay can do for producers now, as {@code /health}, {@code INFO} and HAProxy see it
 * (by its {@link #text()}: {@code "status":"full"}, {@code relay_state:full}).
 *
 * <p>Transitions: {@code STARTING} until every listener is bound; then {@code OK} while the
 * router writes directly, {@code SPILLING} while it writes into the spill log, {@code FULL} while
 * the spill log cannot take more — back and forth as Redis and the spill allow; {@code DRAINING}
 * from {@link RelayServer#drain} on, for good. {@link #of} derives the state from those facts.
 */
public enum RelayState {
    STARTING,
    OK,
    SPILLING,
    /** The spill log cannot take more: {@code spill.maxBytes} reached, its disk full, or it failed. */
    FULL,
    DRAINING;

    private final String text = name().toLowerCase(Locale.ROOT);

    /**
     * The state of a relay.
     *
     * @param started every listener is bound
     * @param draining {@link RelayServer#drain} was called
     * @param spilling the router writes into the spill log
     * @param spillFailed the spill log failed after an I/O error
     * @param spillCannotGrow the spill's disk is full, or one more value would pass {@code spill.maxBytes}
     */
    public static RelayState of(boolean started, boolean draining, boolean spilling, boolean spillFailed,
            boolean spillCannotGrow) {
        if (draining) {
            return DRAINING;
        }
        if (!started) {
            return STARTING;
        }
        if (spillFailed || (spilling && spillCannotGrow)) {
            return FULL;
        }
        return spilling ? SPILLING : OK;
    }

    /** True when a load balancer should send this relay traffic. */
    public boolean takesWrites() {
        return this == OK || this == SPILLING;
    }

    /**
     * The name operators and tools read: {@code ok}, {@code spilling}, {@code full},
     * {@code draining}, {@code starting}.
     */
    public String text() {
        return text;
    }
}
