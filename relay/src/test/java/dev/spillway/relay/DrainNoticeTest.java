package dev.spillway.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.config.ConfigLoader;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM's drain: the agent says {@code drain} at once, the listeners still take connections for
 * {@code shutdown.drainNotice} (HAProxy stops sending them meanwhile), and only then refuse them.
 */
class DrainNoticeTest {

    @TempDir
    Path dir;

    @Test
    void theAgentSaysDrainWhileNewConnectionsAreStillServedForTheNotice() throws Exception {
        int deadSentinel;
        try (ServerSocket s = new ServerSocket(0)) {
            deadSentinel = s.getLocalPort();
        }
        Map<String, String> env = Map.of("SPILLWAY_LISTENERS_RESP_PORT", "0", "SPILLWAY_LISTENERS_LINE_PORT", "0",
                "SPILLWAY_LISTENERS_HTTP_PORT", "0", "SPILLWAY_LISTENERS_ADMIN_PORT", "0",
                "SPILLWAY_LISTENERS_AGENT_PORT", "0", "SPILLWAY_SINK_REDIS_SENTINELS", "127.0.0.1:" + deadSentinel,
                "SPILLWAY_SPILL_DIR", dir.resolve("spill").toString(), "SPILLWAY_SHUTDOWN_DRAIN_NOTICE", "2s");
        RelayServer relay = RelayServer.start(ConfigLoader.load(null, env), new MetricRegistry());
        int resp = relay.addresses().get("resp").getPort();
        int agent = relay.addresses().get("agent").getPort();
        assertThat(agentSays(agent)).isEqualTo("up ready");
        long start = System.nanoTime();
        CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> {
            try {
                relay.drain();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        while (relay.status().state() != RelayState.DRAINING && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(agentSays(agent)).as("the agent speaks for the drain at once").isEqualTo("drain");
        try (Socket late = new Socket("127.0.0.1", resp)) { // within the notice: still accepted and served
            late.setSoTimeout(5_000);
            late.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(late.getInputStream())).isEqualTo("+PONG");
        }
        assertThat(System.nanoTime() - start).as("that was inside the notice").isLessThan(TimeUnit.SECONDS.toNanos(2));
        drained.get(30, TimeUnit.SECONDS);
        assertThat(System.nanoTime() - start).as("the notice was kept").isGreaterThanOrEqualTo(TimeUnit.SECONDS.toNanos(2));
        assertThatThrownBy(() -> new Socket("127.0.0.1", resp).close()).isInstanceOf(ConnectException.class);
    }

    private static String agentSays(int port) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(5_000);
            return readLine(s.getInputStream());
        }
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
