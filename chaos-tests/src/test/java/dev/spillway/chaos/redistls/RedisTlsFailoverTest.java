package dev.spillway.chaos.redistls;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.chaos.check.ListCheck;
import dev.spillway.chaos.topology.GroupSecurity;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.workload.Workload;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole write path over TLS with ACL users: a relay process behind HAProxy writes to a
 * Sentinel group whose nodes listen on TLS ports only, require client certificates and have
 * their default user off ({@link GroupSecurity}); producers keep commands in flight on several
 * lists; the master is SIGKILLed, Sentinel promotes a replica (replication and Sentinel's own
 * links over TLS too), the relay spills and replays — and every acknowledged message is in
 * Redis exactly once, in order.
 */
class RedisTlsFailoverTest {

    /** The line listener's list (its default), also the HTTP producer's; the pipelined ones write KEY:r0.., KEY:l0.. */
    private static final String KEY = "data_queue";

    @TempDir
    Path tmp;

    @Test
    void sigkillOfTheMasterOverTlsWithAclUsersLosesAndDuplicatesNothing() throws Exception {
        GroupSecurity security = GroupSecurity.create(tmp.resolve("pki"));
        try (LocalCluster cluster = LocalCluster.start(tmp.resolve("cluster"),
                LocalCluster.Layout.forTests(1, Map.of()).withSecurity(security))) {
            String yaml = Files.readString(cluster.relays().get(0).dir().resolve("relay.yaml"));
            assertThat(yaml).as("the relay reads its secrets from files").contains("passwordFile")
                    .doesNotContain(security.password());
            var s = cluster.state();
            Workload load = Workload.withPipelinedResp("127.0.0.1", s.respPort(), s.linePort(), s.httpPort(), KEY, 1,
                    200, 2, 16, 1_000, 1_000_000).start();
            load.awaitAcks(3_000, 30_000);

            String admin = "127.0.0.1:" + cluster.relays().get(0).probePort();
            AtomicLong maxPending = new AtomicLong();
            Thread sampler = new Thread(() -> samplePending(admin, maxPending), "spill-sampler");
            sampler.setDaemon(true);
            sampler.start();
            Node master = cluster.group().currentMaster().orElseThrow();
            long killedAt = System.nanoTime();
            master.kill();
            Node promoted = cluster.group().awaitFailoverFrom(master, Duration.ofSeconds(30));
            long failoverMs = (System.nanoTime() - killedAt) / 1_000_000;
            load.awaitAcks(3_000, 30_000);
            load.stop();
            sampler.interrupt();

            ListCheck verdict = null;
            long stoppedAt = System.nanoTime();
            while (System.nanoTime() - stoppedAt < 60_000_000_000L) { // the spill replays within seconds
                verdict = check(cluster, load);
                if (verdict.lost().isEmpty() && pending(admin) == 0) {
                    break;
                }
                Thread.sleep(200);
            }
            System.out.printf("TLS + ACL: SIGKILL %s, promoted %s after %d ms; spill peaked at %d messages; "
                    + "max %d commands in flight on one connection; %d acked; errors %s; %s%n", master, promoted,
                    failoverMs, maxPending.get(), load.maxInFlight(), load.ackedCount(), load.errors(), verdict);
            assertThat(load.errors()).as("producer-visible errors").isEmpty();
            assertThat(load.maxInFlight()).as("producers kept several commands in flight").isGreaterThan(1);
            assertThat(maxPending.get()).as("the failover went through the spill").isPositive();
            assertThat(pending(admin)).as("the spill replayed").isZero();
            assertThat(verdict.lost()).isEmpty();
            assertThat(verdict.duplicated()).isEmpty();
            assertThat(verdict.reordered()).isEmpty();
            assertThat(verdict.unexpected()).isEmpty();
            assertThat(verdict.acked()).isEqualTo(load.ackedCount());
            String relayLog = Files.readString(cluster.relays().get(0).dir().resolve("stdout.log"));
            assertThat(relayLog).as("the preflight passed").contains("Preflight: 3 of 3 Sentinel(s) and the master")
                    .as("every connection authenticated: Redisson's, the Sentinel links', the run-id probe's")
                    .doesNotContain("refused AUTH").doesNotContain("WRONGPASS").doesNotContain("NOAUTH")
                    .as("no secret in the log").doesNotContain(security.password())
                    .doesNotContain(security.sentinelPassword());
        }
    }

    /** Every list of the workload, read over TLS from the master the Sentinels name now. */
    private static ListCheck check(LocalCluster cluster, Workload load) throws Exception {
        Node master = cluster.group().awaitHealthy(Duration.ofSeconds(30));
        Map<String, List<byte[]>> lists = new LinkedHashMap<>();
        Set<String> lpush = new TreeSet<>();
        for (Map.Entry<String, Boolean> e : load.lists(KEY).entrySet()) {
            List<byte[]> values = new ArrayList<>();
            for (String v : master.cli("LRANGE", e.getKey(), "0", "-1").split("\n")) {
                if (!v.isBlank()) {
                    values.add(v.trim().getBytes(StandardCharsets.UTF_8));
                }
            }
            lists.put(e.getKey(), values);
            if (e.getValue()) {
                lpush.add(e.getKey());
            }
        }
        return ListCheck.ofKeys(lists, lpush, "", load.acked(), load.sent(), load.resent(), load.epochStarts(),
                load.keyOf(), load.refused());
    }

    private static void samplePending(String admin, AtomicLong max) {
        while (!Thread.currentThread().isInterrupted()) {
            max.accumulateAndGet(pending(admin), Math::max);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** The relay's spill depth from {@code /health}; -1 when it does not answer. */
    private static long pending(String admin) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://" + admin + "/health")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode h = new ObjectMapper().readTree(r.body());
            return h.path("spill").path("pendingMessages").asLong(-1);
        } catch (java.io.IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }
}
