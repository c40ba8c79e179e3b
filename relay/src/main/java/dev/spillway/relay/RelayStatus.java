package dev.spillway.relay;

/**
 * A snapshot of one relay for /health, INFO and the dashboard.
 *
 * @param state {@code starting}, {@code ok}, {@code spilling} (taking writes into the spill log),
 *     {@code full} (the spill log cannot take more: {@code spill.maxBytes} reached, or its disk is
 *     full), {@code draining} (shutting down)
 * @param spillDiskFull the disk under the spill log is full: new messages that need the spill
 *     are refused while replay goes on
 * @param gate {@code open}, or why the write gate is closed (writes then go to the spill log)
 * @param deadLettered acknowledged messages Redis refused on replay, put on the dead-letter list
 */
public record RelayStatus(String name, String instance, String state, String mode, String master, String breaker,
        long pendingMessages, long pendingBytes, long spillMaxBytes, long failovers, long connections, long inFlight,
        String gate, long deadLettered, boolean spillDiskFull) {

    /** True when a load balancer should send this relay traffic. */
    public boolean takesWrites() {
        return state.equals("ok") || state.equals("spilling");
    }
}
