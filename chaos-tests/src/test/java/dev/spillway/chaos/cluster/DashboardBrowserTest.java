package dev.spillway.chaos.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.workload.Workload;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in real headless Chromium during a master failover: the page shows the spill
 * depth (and its % of the maximum) rise and return to zero, the master change, the relay's own
 * events (failover, new master, spill start and drain) — still there after a reload — when it
 * last heard from the relay, and both relays in the cluster view. The screenshot is kept as {@code chaos-tests/target/dashboard-failover.png}.
 */
class DashboardBrowserTest {

    @TempDir
    Path tmp;

    @Test
    void dashboardShowsSpillRiseAndDrainAndTheNewMasterDuringAFailover() throws Exception {
        Path tools = Files.createDirectories(Path.of("target", "playwright"));
        if (!Files.exists(tools.resolve("node_modules/playwright-core"))) {
            run(List.of("npm", "install", "--prefix", tools.toString(), "--no-audit", "--no-fund", "playwright-core@1"),
                    300);
        }
        Path script = tools.resolve("watch-dashboard.js");
        Files.copy(Path.of("src/test/resources/watch-dashboard.js"), script,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path shot = Path.of("target", "dashboard-failover.png").toAbsolutePath();

        try (LocalCluster cluster = LocalCluster.start(tmp.resolve("cluster"), LocalCluster.Layout.forTests(2, Map.of()))) {
            var s = cluster.state();
            Node relay = cluster.relays().get(0);
            Workload load = Workload.of("127.0.0.1", relay.port(), s.linePort(), s.httpPort(), "data_queue", 2, 200,
                    1_000_000).start();
            load.awaitAcks(500, 20_000);
            Process browser = new ProcessBuilder("node", script.toString(),
                    "http://127.0.0.1:" + relay.probePort() + "/dashboard", "40", shot.toString())
                    .redirectError(tmp.resolve("browser.log").toFile()).start();
            TimeUnit.SECONDS.sleep(4); // the page has a few samples before the fault
            Node master = cluster.group().currentMaster().orElseThrow();
            // A frozen master (not a killed one) makes the spill certain and long enough to see:
            // writes hang until they time out and spill, and replay waits for the new master. After
            // a kill, a write may instead wait out the reconnect and land on the new master unspilled.
            master.freeze();
            Node newMaster;
            try {
                newMaster = cluster.group().awaitFailoverFrom(master, Duration.ofSeconds(30));
            } finally {
                master.resume();
            }
            assertThat(browser.waitFor(90, TimeUnit.SECONDS)).as("browser script finished").isTrue();
            load.stop();
            String out = new String(browser.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            assertThat(browser.exitValue()).as("browser script: %s %s", out,
                    Files.readString(tmp.resolve("browser.log"))).isZero();
            JsonNode seen = new ObjectMapper().readTree(out.substring(out.lastIndexOf('\n') + 1));
            System.out.println("Dashboard saw: " + seen);
            assertThat(seen.get("maxSpill").asLong()).as("spill depth rose during the failover").isPositive();
            assertThat(seen.get("finalSpill").asLong()).as("and returned to zero").isZero();
            assertThat(seen.get("mastersSeen").toString()).contains(master.address()).contains(newMaster.address());
            // the events are the relay's own (/events): the Sentinels' failover, the new master, the
            // spill's start and drain; and a reload shows them again
            for (String field : List.of("events", "eventsAfterReload")) {
                assertThat(seen.get(field).toString()).as(field)
                        .contains("Sentinels name " + newMaster.address() + " as master")
                        .contains("failover").contains("spill-start").contains("spill-drained");
            }
            assertThat(seen.get("maxSpillPct").asDouble()).as("spill shown as % of spill.maxBytes").isPositive();
            assertThat(seen.get("updated").asText()).as("when the page last heard from the relay")
                    .matches("\\d{1,2}:\\d{2}:\\d{2}.*");
            assertThat(seen.get("clusterRows").size()).as("both relays").isEqualTo(2);
            assertThat(seen.get("clusterRows").toString()).contains("relay-1").contains("relay-2");
            assertThat(Files.size(shot)).isPositive();
        }
    }

    private static void run(List<String> cmd, int seconds) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(seconds, TimeUnit.SECONDS)).as("%s finished", cmd).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("%s: %s", cmd, out).isZero();
    }
}
