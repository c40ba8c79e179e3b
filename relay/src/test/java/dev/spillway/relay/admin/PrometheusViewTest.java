package dev.spillway.relay.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.RelayServer;
import dev.spillway.relay.config.ConfigLoader;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Prometheus scrape of a whole running relay (its Sentinels unreachable, so it spills): names,
 * types, labels and HELP by convention, every family of the catalog present and documented.
 */
class PrometheusViewTest {

    @TempDir
    static Path dir;

    private static String scrape;
    /** Family name → type, from the {@code # TYPE} lines. */
    private static final Map<String, String> TYPES = new LinkedHashMap<>();
    private static final Map<String, String> HELP = new LinkedHashMap<>();

    @BeforeAll
    static void scrapeARelayThatSpilled() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        Map<String, String> env = Map.of("SPILLWAY_NAME", "r7", "SPILLWAY_LISTENERS_RESP_PORT", "0",
                "SPILLWAY_LISTENERS_LINE_PORT", "0", "SPILLWAY_LISTENERS_HTTP_PORT", "0",
                "SPILLWAY_LISTENERS_ADMIN_PORT", "0", "SPILLWAY_LISTENERS_AGENT_PORT", "0", "SPILLWAY_SINK_REDIS_SENTINELS", "127.0.0.1:" + deadPort,
                "SPILLWAY_SPILL_DIR", dir.resolve("spill").toString());
        try (RelayServer server = RelayServer.start(ConfigLoader.load(null, env), new MetricRegistry())) {
            try (Socket s = new Socket("127.0.0.1", server.addresses().get("resp").getPort())) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                out.write("RPUSH orders a b\r\n*x\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                StringBuilder replies = new StringBuilder();
                while (replies.indexOf("\r\n", replies.indexOf("\r\n") + 2) < 0) {
                    int b = in.read();
                    assertThat(b).as("replies so far: %s", replies).isNotNegative();
                    replies.append((char) b);
                }
                assertThat(replies.toString()).startsWith(":2\r\n-ERR Protocol error");
            }
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + server.addresses().get("admin").getPort() + "/metrics/prometheus")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            scrape = r.body();
        }
        Files.writeString(Path.of("target", "prometheus-scrape.txt"), scrape); // a sample for docs/metrics.md
        Matcher m = Pattern.compile("^# (TYPE|HELP) (\\S+) (.*)$", Pattern.MULTILINE).matcher(scrape);
        while (m.find()) {
            (m.group(1).equals("TYPE") ? TYPES : HELP).put(m.group(2), m.group(3));
        }
    }

    @Test
    void everyFamilyIsSpillwaysOrTheJvmsUnderItsStandardName() {
        assertThat(TYPES).isNotEmpty();
        assertThat(TYPES.keySet()).allSatisfy(name -> assertThat(name).matches("(spillway|jvm|process)_[a-z0-9_]+"));
        assertThat(scrape).doesNotContain("dev_spillway").doesNotContain("\ningress_")
                .doesNotContain("Generated from Dropwizard");
        assertThat(TYPES).containsKeys("jvm_memory_used_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes");
    }

    @Test
    void theCatalogAndTheScrapeAgreeFamilyByFamily() {
        Set<String> spillway = new TreeSet<>();
        TYPES.forEach((name, type) -> {
            if (name.startsWith("spillway_")) {
                spillway.add(type.equals("counter") ? name.replaceFirst("_total$", "") : name);
            }
        });
        Set<String> catalog = new TreeSet<>();
        PrometheusCatalog.all().forEach(f -> catalog.add(f.name()));
        catalog.removeAll(PrometheusCatalog.CONDITIONAL); // this relay has no TLS listener
        assertThat(spillway).as("a family of the catalog no relay registers, or a metric the catalog misses")
                .isEqualTo(catalog);
        for (PrometheusCatalog.Family f : PrometheusCatalog.all()) {
            if (PrometheusCatalog.CONDITIONAL.contains(f.name())) {
                continue;
            }
            String exposed = TYPES.containsKey(f.name()) ? f.name() : f.name() + "_total";
            assertThat(HELP.get(exposed)).as(f.name()).isEqualTo(f.help().replace("\\", "\\\\"));
        }
    }

    @Test
    void countersEndInTotalAndCarryTheRelayLabel() {
        assertThat(scrape).containsPattern("(?m)^spillway_ingress_messages_total\\{listener=\"resp\",relay=\"r7\"} 2\\.0$");
        assertThat(scrape).containsPattern(
                "(?m)^spillway_ingress_rejected_messages_total\\{listener=\"resp\",reason=\"protocol-error\",relay=\"r7\"} 1\\.0$");
        assertThat(scrape).as("every reason exists from the start")
                .containsPattern("(?m)^spillway_ingress_rejected_messages_total\\{listener=\"http\",reason=\"spill-full\",relay=\"r7\"} 0\\.0$");
        assertThat(scrape).containsPattern("(?m)^spillway_spilled_messages_total\\{relay=\"r7\"} 2\\.0$");
        assertThat(scrape).containsPattern("(?m)^spillway_spill_fsyncs_total\\{relay=\"r7\",trigger=\"queue-empty\"} \\d");
        for (String line : scrape.split("\n")) {
            if (line.startsWith("spillway_")) {
                assertThat(line).as("every Spillway series names its relay").contains("relay=\"r7\"");
            }
        }
    }

    @Test
    void latenciesAreHistogramsInSecondsThatAddUpAcrossRelays() {
        assertThat(TYPES).containsEntry("spillway_ack_latency_seconds", "histogram")
                .containsEntry("spillway_redis_batch_write_seconds", "histogram")
                .containsEntry("spillway_spill_fsync_seconds", "histogram");
        assertThat(scrape).containsPattern(
                "(?m)^spillway_ack_latency_seconds_bucket\\{listener=\"resp\",relay=\"r7\",le=\"\\+Inf\"} 1$");
        assertThat(scrape).containsPattern("(?m)^spillway_ack_latency_seconds_count\\{listener=\"resp\",relay=\"r7\"} 1$");
        assertThat(scrape).containsPattern("(?m)^spillway_ack_latency_seconds_sum\\{listener=\"resp\",relay=\"r7\"} ([1-9][0-9.]*E-[0-9]+|0\\.[0-9]*[1-9][0-9]*)$");
        assertThat(scrape).containsPattern("(?m)^spillway_ack_latency_seconds_count\\{listener=\"line\",relay=\"r7\"} 0$");
    }

    @Test
    void versionMasterAndBreakerStateAreLabels() {
        assertThat(scrape).containsPattern("(?m)^spillway_build_info\\{relay=\"r7\",version=\"[^\"]+\"} 1$");
        assertThat(scrape).contains("spillway_master_info{address=\"unknown\",relay=\"r7\"} 1");
        assertThat(scrape).containsPattern("(?m)^spillway_breaker_state\\{relay=\"r7\",state=\"CLOSED\"} [01]\\.0$")
                .containsPattern("(?m)^spillway_breaker_state\\{relay=\"r7\",state=\"OPEN\"} [01]\\.0$");
        assertThat(scrape).contains("spillway_spill_max_bytes{relay=\"r7\"} 1.073741824E9");
    }

    @Test
    void docsMetricsListsEveryFamilyWithItsType() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "metrics.md"));
        for (Map.Entry<String, String> e : TYPES.entrySet()) {
            if (e.getKey().startsWith("spillway_")) {
                String family = e.getKey();
                assertThat(doc).as("docs/metrics.md row for %s (%s)", family, e.getValue())
                        .containsPattern("\\| `" + Pattern.quote(family) + "(\\{[^`]*})?` \\| " + e.getValue() + " \\|");
            }
        }
    }

    @Test
    void everyNameTheGrafanaDashboardQueriesIsInTheScrape() throws Exception {
        String dashboard = Files.readString(Path.of("..", "deploy", "grafana", "dashboards", "spillway-relays.json"));
        Matcher names = Pattern.compile("\\b(?:spillway|jvm|process)_[a-z_]+\\b").matcher(dashboard);
        Set<String> queried = new TreeSet<>();
        while (names.find()) {
            queried.add(names.group());
        }
        assertThat(queried).hasSizeGreaterThan(15);
        for (String name : queried) {
            String family = name.replaceFirst("_(bucket|count|sum)$", "");
            assertThat(TYPES.containsKey(family) && (family.equals(name) || TYPES.get(family).equals("histogram")))
                    .as("the dashboard queries %s, which the relay does not expose", name).isTrue();
        }
    }
}
