package dev.spillway.chaos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.RelayServer;
import dev.spillway.relay.config.ConfigLoader;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./spillway top} against a real relay (its Sentinels unreachable, so it spills). */
class TopCommandTest {

    @TempDir
    Path tmp;

    @Test
    void showsEachRelaysStateRateSpillAndRefusalsAndSaysWhenOneDoesNotAnswer() throws Exception {
        int deadSentinel;
        int deadAdmin;
        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
            deadSentinel = a.getLocalPort();
            deadAdmin = b.getLocalPort();
        }
        Map<String, String> env = Map.of("SPILLWAY_NAME", "top-1", "SPILLWAY_LISTENERS_RESP_PORT", "0",
                "SPILLWAY_LISTENERS_LINE_PORT", "0", "SPILLWAY_LISTENERS_HTTP_PORT", "0",
                "SPILLWAY_LISTENERS_ADMIN_PORT", "0", "SPILLWAY_LISTENERS_AGENT_PORT", "0",
                "SPILLWAY_SINK_REDIS_SENTINELS", "127.0.0.1:" + deadSentinel,
                "SPILLWAY_SPILL_DIR", tmp.resolve("spill").toString());
        try (RelayServer relay = RelayServer.start(ConfigLoader.load(null, env), new MetricRegistry())) {
            String admin = "127.0.0.1:" + relay.addresses().get("admin").getPort();
            TopCommand top = new TopCommand();
            List<String> relays = List.of(admin, "127.0.0.1:" + deadAdmin);
            top.screen(relays); // the first screen has no rates yet
            try (Socket s = new Socket("127.0.0.1", relay.addresses().get("resp").getPort())) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                out.write("RPUSH top a b c d e\r\nRPUSH top f g h i j\r\n*x\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                String replies = new String(in.readAllBytes(), StandardCharsets.US_ASCII); // closed after the error
                assertThat(replies).startsWith(":5\r\n:5\r\n-ERR Protocol error");
            }
            Thread.sleep(300);
            String screen = top.screen(relays);
            System.out.println(screen);
            String row = screen.lines().filter(l -> l.startsWith("top-1")).findFirst().orElseThrow();
            List<String> cols = List.of(row.trim().split("\\s+"));
            assertThat(cols.get(1)).isEqualTo("spilling");
            assertThat(Double.parseDouble(cols.get(2))).as("msg/s over the last interval").isPositive();
            assertThat(cols.get(4)).as("spilled messages").isEqualTo("10");
            assertThat(Double.parseDouble(cols.get(5))).as("spill % of its maximum").isBetween(0.0, 1.0);
            assertThat(Double.parseDouble(cols.get(6))).as("refusals/s").isPositive();
            assertThat(cols.get(8)).isEqualTo("unknown");
            assertThat(screen).containsPattern("\\?\\s+no answer\\s+127\\.0\\.0\\.1:" + deadAdmin);
            assertThat(new CommandLine(new TopCommand()).execute("--relays", admin, "--iterations", "2",
                    "--interval", "100ms")).isZero();
        }
    }
}
