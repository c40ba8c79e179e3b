package dev.spillway.chaos.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.chaos.check.ListCheck;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.workload.Workload;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three relay processes behind HAProxy, producers on all three protocols going through HAProxy:
 * SIGKILL one relay under load (producers reconnect; nothing acknowledged is lost), then drain
 * another by the runbook (SIGTERM alone: its agent tells HAProxy to drain; no producer sees an error).
 */
class HaproxyRelaysTest {

    @TempDir
    Path tmp;

    @Test
    void relayKillAndRelayDrainThroughHaproxyLoseNothing() throws Exception {
        try (LocalCluster cluster = LocalCluster.start(tmp.resolve("cluster"), LocalCluster.Layout.forTests(3, Map.of()))) {
            var s = cluster.state();
            Workload load = Workload.of("127.0.0.1", s.respPort(), s.linePort(), s.httpPort(), "data_queue", 2, 200,
                    1_000_000).start();
            load.awaitAcks(1_000, 30_000);

            Node killed = cluster.relays().get(1);
            long killedAt = System.nanoTime();
            killed.kill();
            while (!cluster.haproxyRuntime().relayView().get("relays_resp/relay-2").startsWith("DOWN")
                    && System.nanoTime() - killedAt < 15_000_000_000L) {
                Thread.sleep(50);
            }
            long outMs = (System.nanoTime() - killedAt) / 1_000_000;
            assertThat(cluster.haproxyRuntime().relayView().get("relays_resp/relay-2")).startsWith("DOWN");
            assertThat(outMs).as("a dead relay is out of HAProxy in about 3 s").isLessThan(6_000);
            load.awaitAcks(1_500, 30_000);
            List<String> errorsAfterKill = load.errors();

            cluster.drainRelay(3, Duration.ofSeconds(15));
            load.awaitAcks(1_500, 30_000);
            load.stop();
            killed.start(); // a relay that died with anything in its spill replays it now
            long restartedAt = System.nanoTime();
            ListCheck verdict;
            while (true) { // what it acknowledged before the kill lands once it has replayed its spill
                Node master = cluster.group().awaitHealthy(Duration.ofSeconds(10));
                List<byte[]> list = new ArrayList<>();
                for (String v : master.cli("LRANGE", "data_queue", "0", "-1").split("\n")) {
                    if (!v.isBlank()) {
                        list.add(v.trim().getBytes(StandardCharsets.UTF_8));
                    }
                }
                verdict = ListCheck.of(list, load.acked(), load.sent(), load.resent(), false);
                if (verdict.lost().isEmpty() || System.nanoTime() - restartedAt > 30_000_000_000L) {
                    break;
                }
                Thread.sleep(200);
            }
            System.out.printf("restarted relay-2: everything acknowledged present %d ms after its start%n",
                    (System.nanoTime() - restartedAt) / 1_000_000);
            System.out.printf("HAProxy: relay-2 SIGKILL (out after %d ms), relay-3 drained: %d reconnects, errors %s; %s%n",
                    outMs, load.reconnects(), load.errors(), verdict);
            assertThat(errorsAfterKill).as("producer-visible errors around the relay kill").isEmpty();
            assertThat(load.errors()).as("producer-visible errors around the drain").isEmpty();
            assertThat(verdict.lost()).isEmpty();
            assertThat(verdict.duplicated()).isEmpty();
            assertThat(verdict.reordered()).isEmpty();
            assertThat(verdict.unexpected()).isEmpty();
            assertThat(load.reconnects()).as("producers of the killed relay reconnected").isPositive();
        }
    }
}
