package dev.spillway.chaos.observe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.workload.Workload;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Debian's Prometheus scraping the relays of a local cluster with the shipped alert rules
 * ({@code deploy/prometheus/spillway-alerts.yml}, scrape and evaluation every second): the series
 * exist with their labels; a master SIGKILLed under load makes the relays spill past half of
 * {@code spill.maxBytes}, the spill alert goes pending or firing, and goes away once the spill
 * has been replayed into the new master.
 */
class RealPrometheusTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path tmp;

    @Test
    void seriesCarryTheirLabelsAndTheSpillAlertComesAndGoesWithAFailover() throws Exception {
        // a small spill: a failover's worth of the load below fills more than half of it
        Map<String, Object> relaySettings = Map.of("spill", Map.of("maxBytes", "80KiB", "segmentBytes", "64KiB",
                "maxRecordBytes", "32KiB"), "limits", Map.of("maxValueBytes", 16 * 1024));
        try (LocalCluster cluster = LocalCluster.start(tmp.resolve("cluster"), LocalCluster.Layout.forTests(2, relaySettings))) {
            int port = freePort();
            List<String> targets = new ArrayList<>();
            for (Node relay : cluster.relays()) {
                targets.add("\"127.0.0.1:" + relay.probePort() + "\"");
            }
            Path config = tmp.resolve("prometheus.yml");
            Files.writeString(config, """
                    global:
                      scrape_interval: 1s
                      evaluation_interval: 1s
                    rule_files:
                      - %s
                    scrape_configs:
                      - job_name: spillway
                        metrics_path: /metrics/prometheus
                        static_configs:
                          - targets: [%s]
                    """.formatted(AlertRulesTest.DIR.resolve("spillway-alerts.yml"), String.join(", ", targets)));
            Process prometheus = new ProcessBuilder("prometheus", "--config.file=" + config,
                    "--storage.tsdb.path=" + tmp.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                    "--log.level=warn").redirectErrorStream(true).redirectOutput(tmp.resolve("prometheus.log").toFile())
                    .start();
            String api = "http://127.0.0.1:" + port;
            try {
                awaitTrue("Prometheus ready", 30, () -> get(api + "/-/ready").statusCode() == 200);
                var s = cluster.state();
                Workload load = Workload.of("127.0.0.1", s.respPort(), s.linePort(), s.httpPort(), "data_queue", 2,
                        250, 1_000_000).start();
                load.awaitAcks(500, 30_000);

                // the series, with the labels operators query by
                awaitTrue("both relays scraped", 30, () -> query(api, "up{job=\"spillway\"} == 1").size() == 2);
                awaitTrue("build info of both relays", 30, () -> query(api, "spillway_build_info").size() == 2);
                JsonNode build = query(api, "spillway_build_info").get(0).get("metric");
                assertThat(build.get("relay").asText()).startsWith("relay-");
                assertThat(build.get("version").asText()).isNotBlank();
                assertThat(labelValues(query(api, "spillway_ingress_messages_total"), "listener"))
                        .containsExactlyInAnyOrder("resp", "line", "http");
                assertThat(labelValues(query(api, "spillway_ingress_rejected_messages_total{listener=\"resp\"}"), "reason"))
                        .contains("spill-full", "spill-disk-full", "shutting-down", "protocol-error", "too-large");
                String master = cluster.group().currentMaster().orElseThrow().address();
                awaitTrue("the master as a label", 30, () -> labelValues(query(api, "spillway_master_info"), "address")
                        .equals(Set.of(master)));
                assertThat(query(api, "spillway_breaker_state{state=\"CLOSED\"} == 1")).hasSize(2);
                awaitTrue("acknowledgements counted", 30, () -> !query(api,
                        "sum(rate(spillway_ack_latency_seconds_count[5s])) > 0").isEmpty());
                assertThat(query(api, "histogram_quantile(0.99, sum by (le) (rate(spillway_ack_latency_seconds_bucket[10s])))"))
                        .hasSize(1);
                assertThat(query(api, "process_resident_memory_bytes{job=\"spillway\"}")).hasSize(2);
                assertThat(query(api, "jvm_memory_used_bytes{job=\"spillway\",area=\"heap\"}")).hasSize(2);
                assertThat(alerts(api, a -> true)).as("no alert before the fault").isEmpty();

                // the fault: SIGKILL the master under load
                long t0 = System.nanoTime();
                cluster.group().currentMaster().orElseThrow().kill();
                List<String> timeline = new ArrayList<>();
                timeline.add("0 ms: master " + master + " SIGKILLed");
                awaitTrue("spill alert pending or firing", 60, () -> {
                    List<JsonNode> a = alerts(api, x -> x.get("labels").get("alertname").asText().equals("SpillwaySpillHalfFull"));
                    if (!a.isEmpty()) {
                        timeline.add(ms(t0) + " ms: SpillwaySpillHalfFull " + a.get(0).get("state").asText() + " for "
                                + a.get(0).get("labels").get("relay").asText() + " (" + a.get(0).get("value").asText() + "%)");
                    }
                    return !a.isEmpty();
                });
                awaitTrue("failover alert", 60, () -> {
                    boolean firing = !alerts(api, x -> x.get("labels").get("alertname").asText().equals("SpillwayFailover")
                            && x.get("state").asText().equals("firing")).isEmpty();
                    if (firing) {
                        timeline.add(ms(t0) + " ms: SpillwayFailover firing");
                    }
                    return firing;
                });
                awaitTrue("spill alert gone once the spill is replayed", 90, () -> {
                    boolean gone = alerts(api, x -> x.get("labels").get("alertname").asText().startsWith("SpillwaySpill"))
                            .isEmpty();
                    if (gone) {
                        timeline.add(ms(t0) + " ms: no spill alert; spill bytes "
                                + query(api, "sum(spillway_spill_bytes)").get(0).get("value").get(1).asText());
                    }
                    return gone;
                });
                awaitTrue("the spill replayed", 60, () -> query(api, "sum(spillway_spill_bytes) == 0").size() == 1);
                timeline.add(ms(t0) + " ms: every relay's spill replayed (spillway_spill_bytes 0)");
                load.stop();
                String newMaster = cluster.group().awaitHealthy(Duration.ofSeconds(30)).address();
                awaitTrue("the new master as a label", 30, () -> labelValues(query(api, "spillway_master_info"), "address")
                        .equals(Set.of(newMaster)));
                timeline.add(ms(t0) + " ms: spillway_master_info names " + newMaster + " on both relays");
                System.out.println("Prometheus alert timeline:\n  " + String.join("\n  ", timeline));
                assertThat(newMaster).isNotEqualTo(master);
            } finally {
                prometheus.destroy();
                if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
                    prometheus.destroyForcibly();
                }
            }
        }
    }

    private static long ms(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** An instant query's result vector. */
    private static List<JsonNode> query(String api, String promql) throws IOException, InterruptedException {
        HttpResponse<String> r = get(api + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        assertThat(r.statusCode()).as("%s: %s", promql, r.body()).isEqualTo(200);
        List<JsonNode> out = new ArrayList<>();
        JSON.readTree(r.body()).get("data").get("result").forEach(out::add);
        return out;
    }

    private static List<JsonNode> alerts(String api, Predicate<JsonNode> which) throws IOException, InterruptedException {
        HttpResponse<String> r = get(api + "/api/v1/alerts");
        List<JsonNode> out = new ArrayList<>();
        JSON.readTree(r.body()).get("data").get("alerts").forEach(a -> {
            if (which.test(a)) {
                out.add(a);
            }
        });
        return out;
    }

    private static Set<String> labelValues(List<JsonNode> series, String label) {
        Set<String> out = new LinkedHashSet<>();
        series.forEach(s -> out.add(s.get("metric").path(label).asText()));
        return out;
    }

    interface Check {
        boolean ok() throws Exception;
    }

    /** An unanswered request (Prometheus still starting) counts as "not yet". */
    private static boolean okOrNotYet(Check check) throws Exception {
        try {
            return check.ok();
        } catch (java.net.ConnectException | java.net.http.HttpTimeoutException e) {
            return false;
        }
    }

    private static void awaitTrue(String what, int seconds, Check check) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!okOrNotYet(check)) {
            assertThat(System.nanoTime()).as("timed out waiting for: " + what).isLessThan(deadline);
            Thread.sleep(250);
        }
    }
}
