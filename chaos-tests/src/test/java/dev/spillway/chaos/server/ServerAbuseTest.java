package dev.spillway.chaos.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.RelayServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * Misbehaving clients against a live relay: each gets a clear error or is closed, and the relay
 * keeps serving everyone else.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServerAbuseTest {

    private SentinelGroup group;
    private RelayServer relay;
    private int resp;

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        group = SentinelGroup.start(tmp.resolve("cluster"), SentinelGroup.Options.forTests());
        relay = RelayFixture.start(group, tmp.resolve("spill"), Map.of("SPILLWAY_LIMITS_IDLE_TIMEOUT", "2s"));
        resp = RelayFixture.port(relay, "resp");
    }

    @AfterAll
    void stop() throws Exception {
        if (relay != null) {
            relay.drain();
        }
        if (group != null) {
            group.close();
        }
    }

    private void assertStillServes() {
        try (Jedis j = new Jedis("127.0.0.1", resp)) {
            assertThat(j.rpush("alive", "yes")).isEqualTo(1);
        }
    }

    @Test
    void refusesA64MiBValueFromItsHeaderAndKeepsServing() throws Exception {
        try (Socket s = new Socket("127.0.0.1", resp)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("*3\r\n$5\r\nRPUSH\r\n$3\r\nbig\r\n$67108864\r\n".getBytes(StandardCharsets.US_ASCII));
            Thread writer = new Thread(() -> {
                byte[] chunk = new byte[1 << 20];
                try {
                    for (int i = 0; i < 64; i++) {
                        out.write(chunk);
                    }
                } catch (Exception expected) {
                    // the relay closed the connection long before 64 MiB arrived
                }
            });
            writer.start();
            String reply = readLine(s.getInputStream());
            assertThat(reply).startsWith("-ERR Protocol error: bulk length 67108864 exceeds limits.maxValueBytes");
            writer.join(30_000);
        }
        assertStillServes();
        assertThat(group.awaitHealthy(Duration.ofSeconds(5)).cli("EXISTS", "big")).isEqualTo("0");
    }

    @Test
    void closesAHalfFrameLeftOpenAfterTheIdleTimeout() throws Exception {
        try (Socket s = new Socket("127.0.0.1", resp)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("*3\r\n$5\r\nRPU".getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            String reply = readLine(s.getInputStream());
            assertThat(reply).contains("idle for longer than limits.idleTimeout");
            assertThat(s.getInputStream().read()).as("closed").isEqualTo(-1);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(1_000L, 9_000L);
        }
        assertStillServes();
    }

    @Test
    void hundredsOfIdleConnectionsNeitherBlockOthersNorStayForever() throws Exception {
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                Socket s = new Socket("127.0.0.1", resp);
                s.setSoTimeout(10_000);
                idle.add(s);
            }
            assertStillServes();
            for (Socket s : idle) {
                assertThat(readLine(s.getInputStream())).contains("idle for longer than limits.idleTimeout");
            }
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
        assertStillServes();
    }

    @Test
    void refusesConnectionsPastTheLimitWithAReason(@TempDir Path tmp) throws Exception {
        int limit = 40;
        RelayServer small = RelayFixture.start(group, tmp.resolve("spill"), Map.of(
                "SPILLWAY_LIMITS_MAX_CONNECTIONS", String.valueOf(limit), "SPILLWAY_NAME", "small"));
        int port = RelayFixture.port(small, "resp");
        List<Socket> open = new ArrayList<>();
        try {
            // Connections are counted on several event loops at once, so which of the limit + 1 is
            // refused is not defined: exactly one is, with a reason, and the others stay open.
            for (int i = 0; i <= limit; i++) {
                open.add(new Socket("127.0.0.1", port));
            }
            List<Socket> refused = new ArrayList<>();
            long until = System.currentTimeMillis() + 10_000;
            while (refused.isEmpty() && System.currentTimeMillis() < until) {
                for (Socket s : open) {
                    if (s.getInputStream().available() > 0) {
                        refused.add(s);
                    }
                }
                TimeUnit.MILLISECONDS.sleep(10);
            }
            assertThat(refused).hasSize(1);
            Socket r = refused.get(0);
            r.setSoTimeout(5_000);
            assertThat(readLine(r.getInputStream()))
                    .isEqualTo("-ERR too many connections (limits.maxConnections=" + limit + ")");
            assertThat(r.getInputStream().read()).as("closed after the refusal").isEqualTo(-1);
            open.remove(r);
            r.close();
            for (Socket s : open) {
                assertThat(s.getInputStream().available()).as("the others were not refused").isZero();
            }
            open.remove(0).close();
            long deadline = System.currentTimeMillis() + 5_000;
            String pong = null;
            while (pong == null && System.currentTimeMillis() < deadline) {
                try (Jedis k = new Jedis("127.0.0.1", port)) {
                    pong = k.ping();
                } catch (Exception stillCounted) {
                    TimeUnit.MILLISECONDS.sleep(20);
                }
            }
            assertThat(pong).as("room again once a connection closed").isEqualTo("PONG");
        } finally {
            for (Socket s : open) {
                s.close();
            }
            small.drain();
        }
    }

    @Test
    void garbageGetsAProtocolErrorAndOthersCarryOn() throws Exception {
        try (Socket s = new Socket("127.0.0.1", resp)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(new byte[] {'*', 'x', 0, (byte) 0xff, '\r', '\n'});
            assertThat(readLine(s.getInputStream())).startsWith("-ERR Protocol error");
            assertThat(s.getInputStream().read()).isEqualTo(-1);
        }
        assertStillServes();
    }

    private static String readLine(InputStream in) throws Exception {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
