package dev.spillway.relay;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A snapshot of one relay for /health, INFO and the dashboard, and the one place that names its
 * fields for them.
 *
 * @param state see {@link RelayState}
 * @param spillDiskFull the disk under the spill log is full: new messages that need the spill
 *     are refused while replay goes on
 * @param gate {@code open}, or why the write gate is closed (writes then go to the spill log)
 * @param deadLettered acknowledged messages Redis refused on replay, put on the dead-letter list
 * @param spillFailed the spill log stopped after an I/O failure it could not repair; only a
 *     restart reopens it
 */
public record RelayStatus(String name, String instance, RelayState state, String mode, String master,
        String breaker, long pendingMessages, long pendingBytes, long spillMaxBytes, long failovers,
        long connections, long inFlight, String gate, long deadLettered, boolean spillDiskFull,
        boolean spillFailed) {

    /**
     * True while the process can do its job once it is sent traffic again; false when only a
     * restart helps (the spill log stopped after an I/O failure it could not repair). A full,
     * draining or starting relay is alive: restarting it would only lose time.
     */
    public boolean isLive() {
        return !spillFailed;
    }

    /** True when a load balancer should send this relay traffic. */
    public boolean takesWrites() {
        return state.takesWrites();
    }

    /** The body of {@code GET /health} but for its {@code checks}, in the order it is written. */
    public Map<String, Object> healthFields() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", state.text());
        body.put("name", name);
        body.put("instance", instance);
        body.put("version", Version.get());
        body.put("master", master);
        body.put("breaker", breaker);
        body.put("gate", gate);
        body.put("mode", mode);
        body.put("spill", Map.of("pendingMessages", pendingMessages, "pendingBytes", pendingBytes,
                "maxBytes", spillMaxBytes, "diskFull", spillDiskFull));
        body.put("failovers", failovers);
        body.put("deadLettered", deadLettered);
        body.put("connections", connections);
        body.put("inFlight", inFlight);
        return body;
    }

    /** The lines of the {@code # Spillway} section of {@code INFO}, each ending in CRLF. */
    public String infoFields() {
        return "relay_name:" + name + "\r\n"
                + "relay_instance:" + instance + "\r\n"
                + "relay_state:" + state.text() + "\r\n"
                + "relay_mode:" + mode + "\r\n"
                + "redis_master:" + master + "\r\n"
                + "breaker_state:" + breaker + "\r\n"
                + "write_gate:" + gate + "\r\n"
                + "dead_lettered_messages:" + deadLettered + "\r\n"
                + "spill_pending_messages:" + pendingMessages + "\r\n"
                + "spill_pending_bytes:" + pendingBytes + "\r\n"
                + "spill_disk_full:" + (spillDiskFull ? 1 : 0) + "\r\n"
                + "spill_max_bytes:" + spillMaxBytes + "\r\n"
                + "failovers:" + failovers + "\r\n"
                + "connected_clients:" + connections + "\r\n"
                + "in_flight_messages:" + inFlight + "\r\n";
    }
}
