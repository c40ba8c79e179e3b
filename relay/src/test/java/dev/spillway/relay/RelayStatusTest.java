package dev.spillway.relay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The relay's state and the text /health, INFO, HAProxy and the chaos tooling read from it. */
class RelayStatusTest {

    private static final RelayStatus FULL = new RelayStatus("r1", "1f", RelayState.FULL, "SPILL", "127.0.0.1:7001",
            "OPEN", 12, 3400, 1 << 20, 2, 5, 7, "closed: no Sentinel has answered yet", 1, true, false);

    @Test
    void derivesTheStateInOrderDrainingStartingFullSpillingOk() {
        assertThat(RelayState.of(false, true, true, true, true)).isEqualTo(RelayState.DRAINING);
        assertThat(RelayState.of(false, false, true, true, true)).isEqualTo(RelayState.STARTING);
        assertThat(RelayState.of(true, false, false, true, false)).as("a failed spill log").isEqualTo(RelayState.FULL);
        assertThat(RelayState.of(true, false, true, false, true)).isEqualTo(RelayState.FULL);
        assertThat(RelayState.of(true, false, false, false, true)).as("not spilling: it need not grow")
                .isEqualTo(RelayState.OK);
        assertThat(RelayState.of(true, false, true, false, false)).isEqualTo(RelayState.SPILLING);
        assertThat(RelayState.of(true, false, false, false, false)).isEqualTo(RelayState.OK);
    }

    @Test
    void onlyOkAndSpillingTakeWrites() {
        assertThat(RelayState.OK.takesWrites()).isTrue();
        assertThat(RelayState.SPILLING.takesWrites()).isTrue();
        assertThat(RelayState.FULL.takesWrites()).isFalse();
        assertThat(RelayState.DRAINING.takesWrites()).isFalse();
        assertThat(RelayState.STARTING.takesWrites()).isFalse();
    }

    @Test
    void healthNamesTheStateInLowerCase() throws Exception {
        Map<String, Object> body = FULL.healthFields();
        assertThat(body.keySet()).containsExactly("status", "name", "instance", "version", "master", "breaker", "gate", "mode",
                "spill", "failovers", "deadLettered", "connections", "inFlight");
        String json = new ObjectMapper().writeValueAsString(body);
        assertThat(json).startsWith("{\"status\":\"full\",\"name\":\"r1\",\"instance\":\"1f\","
                + "\"version\":\"" + Version.get() + "\","
                + "\"master\":\"127.0.0.1:7001\",\"breaker\":\"OPEN\",\"gate\":\"closed: no Sentinel has answered yet\","
                + "\"mode\":\"SPILL\",\"spill\":{");
        assertThat(json).endsWith("},\"failovers\":2,\"deadLettered\":1,\"connections\":5,\"inFlight\":7}");
        assertThat(body.get("spill")).isEqualTo(Map.of("pendingMessages", 12L, "pendingBytes", 3400L,
                "maxBytes", (long) (1 << 20), "diskFull", true));
    }

    @Test
    void infoListsEveryFieldAsRedisDoes() {
        assertThat(FULL.infoFields()).isEqualTo("relay_name:r1\r\n"
                + "relay_instance:1f\r\n"
                + "relay_state:full\r\n"
                + "relay_mode:SPILL\r\n"
                + "redis_master:127.0.0.1:7001\r\n"
                + "breaker_state:OPEN\r\n"
                + "write_gate:closed: no Sentinel has answered yet\r\n"
                + "dead_lettered_messages:1\r\n"
                + "spill_pending_messages:12\r\n"
                + "spill_pending_bytes:3400\r\n"
                + "spill_disk_full:1\r\n"
                + "spill_max_bytes:1048576\r\n"
                + "failovers:2\r\n"
                + "connected_clients:5\r\n"
                + "in_flight_messages:7\r\n");
    }

    @Test
    void theAgentSaysReadyWhileTakingWritesDrainWhenNotAndDownWhenOnlyARestartHelps() {
        RelayStatus ok = withState(RelayState.OK, false);
        assertThat(dev.spillway.relay.admin.AgentHandler.reply(ok)).isEqualTo("up ready");
        assertThat(dev.spillway.relay.admin.AgentHandler.reply(withState(RelayState.SPILLING, false))).isEqualTo("up ready");
        assertThat(dev.spillway.relay.admin.AgentHandler.reply(FULL)).isEqualTo("drain");
        assertThat(dev.spillway.relay.admin.AgentHandler.reply(withState(RelayState.DRAINING, false))).isEqualTo("drain");
        assertThat(dev.spillway.relay.admin.AgentHandler.reply(withState(RelayState.STARTING, false))).isEqualTo("drain");
        assertThat(dev.spillway.relay.admin.AgentHandler.reply(withState(RelayState.FULL, true))).isEqualTo("down");
    }

    private static RelayStatus withState(RelayState state, boolean spillFailed) {
        return new RelayStatus("r1", "1f", state, "DIRECT", "127.0.0.1:7001", "CLOSED", 0, 0, 1 << 20, 0, 0, 0, "open",
                0, false, spillFailed);
    }
}
