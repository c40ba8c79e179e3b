package dev.spillway.relay.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.RelayState;
import dev.spillway.relay.RelayStatus;
import dev.spillway.relay.security.Secret;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Liveness apart from readiness: a full relay is not ready but alive; a failed spill log needs a restart. */
class AdminHandlerTest {

    private static RelayStatus status(RelayState state, boolean spillFailed) {
        return new RelayStatus("r1", "1f", state, "SPILL", "127.0.0.1:7001", "CLOSED", 3, 300, 1 << 20, 0, 2, 1,
                "open", 0, state == RelayState.FULL && !spillFailed, spillFailed);
    }

    private static FullHttpResponse get(RelayStatus s, String path) throws Exception {
        return get(s, path, null, null);
    }

    private static FullHttpResponse get(RelayStatus s, String path, Secret token, String authorization)
            throws Exception {
        try (RelayMetrics metrics = new RelayMetrics(new MetricRegistry(), null, "r1")) {
            EmbeddedChannel ch = new EmbeddedChannel(new AdminHandler(() -> s, metrics, List.of(), token));
            DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
            if (authorization != null) {
                req.headers().set("Authorization", authorization);
            }
            ch.writeInbound(req);
            FullHttpResponse r = ch.readOutbound();
            ch.finishAndReleaseAll();
            return r;
        }
    }

    private static String body(FullHttpResponse r) {
        String b = r.content().toString(StandardCharsets.UTF_8);
        r.release();
        return b;
    }

    @Test
    void aFullRelayIsNotReadyButAlive() throws Exception {
        RelayStatus full = status(RelayState.FULL, false);
        FullHttpResponse health = get(full, "/health");
        assertThat(health.status().code()).isEqualTo(503);
        assertThat(body(health)).contains("\"status\":\"full\"");
        FullHttpResponse ready = get(full, "/health/ready");
        assertThat(ready.status().code()).isEqualTo(503);
        assertThat(body(ready)).contains("\"status\":\"full\"");
        FullHttpResponse live = get(full, "/health/live");
        assertThat(live.status().code()).isEqualTo(200);
        assertThat(body(live)).contains("\"status\":\"live\"").contains("\"state\":\"full\"");
    }

    @Test
    void aRelayWhoseSpillLogFailedIsNotAlive() throws Exception {
        FullHttpResponse live = get(status(RelayState.FULL, true), "/health/live");
        assertThat(live.status().code()).isEqualTo(503);
        assertThat(body(live)).contains("restart the relay");
    }

    @Test
    void aHealthyRelayIsReadyAndAlive() throws Exception {
        RelayStatus ok = status(RelayState.OK, false);
        assertThat(get(ok, "/health/ready").status().code()).isEqualTo(200);
        assertThat(get(ok, "/health/live").status().code()).isEqualTo(200);
    }

    @Test
    void withATokenEveryEndpointButTheProbesWantsIt() throws Exception {
        RelayStatus ok = status(RelayState.OK, false);
        Secret token = Secret.parse("adm1n");
        for (String path : List.of("/health", "/metrics", "/metrics/prometheus", "/dashboard", "/peers", "/nope")) {
            FullHttpResponse r = get(ok, path, token, null);
            assertThat(r.status().code()).as(path).isEqualTo(401);
            assertThat(r.headers().get("WWW-Authenticate")).isEqualTo("Bearer");
            assertThat(body(r)).doesNotContain("adm1n");
            assertThat(get(ok, path, token, "Bearer wrong").status().code()).as(path).isEqualTo(401);
        }
        assertThat(get(ok, "/health", token, "Bearer adm1n").status().code()).isEqualTo(200);
        assertThat(get(ok, "/metrics", token, "Bearer adm1n").status().code()).isEqualTo(200);
        assertThat(get(ok, "/health/live", token, null).status().code()).isEqualTo(200);
        assertThat(get(ok, "/health/ready", token, null).status().code()).isEqualTo(200);
    }
}
