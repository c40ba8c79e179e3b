package dev.spillway.relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.spill.SpillLogConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    @Test
    void exampleFileListsExactlyTheDefaults() {
        RelayConfig example = ConfigLoader.load(Path.of("relay.example.yaml"), Map.of());
        RelayConfig defaults = ConfigLoader.load(null, Map.of());
        assertThat(example.resp()).isEqualTo(defaults.resp());
        assertThat(example.line()).isEqualTo(defaults.line());
        assertThat(example.lineKey()).isEqualTo(defaults.lineKey());
        assertThat(example.http()).isEqualTo(defaults.http());
        assertThat(example.admin()).isEqualTo(defaults.admin());
        assertThat(example.adminPeers()).isEqualTo(defaults.adminPeers()).isEmpty();
        assertThat(example.limits()).isEqualTo(defaults.limits());
        assertThat(example.drainTimeout()).isEqualTo(defaults.drainTimeout());
        assertThat(example.security().users().respAuthRequired()).isFalse();
        assertThat(example.security().users().httpAuthRequired()).isFalse();
        assertThat(example.security().adminToken()).isNull();
        assertThat(example.security().tls()).isNull();
        SinkConfig s = example.sink();
        SinkConfig d = defaults.sink();
        assertThat(List.of(s.masterName(), s.sentinels(), s.minReplicas(), s.waitTimeout(), s.timeout(),
                s.connectTimeout(), s.maxBatch(), s.maxBatchBytes(), s.dedupeTtl(), s.dedupeKeyPrefix(),
                s.retryAttempts(), s.retryWait(), s.breakerWindow(), s.breakerMinCalls(), s.breakerFailureRate(),
                s.breakerOpenWait(), s.breakerMaxHalfOpen(), s.deadLetterKey(), s.sentinelHeartbeat(),
                s.sentinelTimeout(), String.valueOf(s.username()), String.valueOf(s.password()),
                String.valueOf(s.sentinelUsername()), String.valueOf(s.sentinelPassword()), String.valueOf(s.tls())))
                .isEqualTo(List.of(d.masterName(), d.sentinels(), d.minReplicas(), d.waitTimeout(), d.timeout(),
                        d.connectTimeout(), d.maxBatch(), d.maxBatchBytes(), d.dedupeTtl(), d.dedupeKeyPrefix(),
                        d.retryAttempts(), d.retryWait(), d.breakerWindow(), d.breakerMinCalls(),
                        d.breakerFailureRate(), d.breakerOpenWait(), d.breakerMaxHalfOpen(), d.deadLetterKey(),
                        d.sentinelHeartbeat(), d.sentinelTimeout(), "null", "null", "null", "null", "null"));
        SpillLogConfig p = example.spill();
        SpillLogConfig q = defaults.spill();
        assertThat(List.of(p.directory(), p.maxBytes(), p.segmentBytes(), p.maxRecordBytes(), p.flushMaxWait(),
                p.flushBytes())).isEqualTo(List.of(q.directory(), q.maxBytes(), q.segmentBytes(), q.maxRecordBytes(),
                q.flushMaxWait(), q.flushBytes()));
    }

    @Test
    void theDefaultSpillDirectoryIsAbsoluteAndTheEnvironmentMovesIt() {
        assertThat(ConfigLoader.load(null, Map.of()).spill().directory())
                .as("independent of the directory the relay starts in")
                .isEqualTo(Path.of("/var/lib/spillway/spill")).isAbsolute();
        Path own = dir.resolve("relay-7");
        assertThat(ConfigLoader.load(null, Map.of("SPILLWAY_SPILL_DIR", own.toString())).spill().directory())
                .isEqualTo(own);
    }

    @Test
    void environmentOverridesTheFile() throws Exception {
        Path f = write("sink:\n  ack:\n    minReplicas: 1\nlisteners:\n  resp:\n    port: 7000\n");
        RelayConfig c = ConfigLoader.load(f, Map.of("SPILLWAY_SINK_ACK_MIN_REPLICAS", "2",
                "SPILLWAY_SINK_REDIS_SENTINELS", "10.0.0.1:26379, 10.0.0.2:26379", "SPILLWAY_SPILL_MAX_BYTES", "2GiB",
                "SPILLWAY_LIMITS_IDLE_TIMEOUT", "30s"));
        assertThat(c.sink().minReplicas()).isEqualTo(2);
        assertThat(ConfigLoader.load(f, Map.of()).sink().minReplicas()).isEqualTo(1);
        assertThat(ConfigLoader.load(f, Map.of("SPILLWAY_SINK_ACK_MIN_REPLICAS", "all")).sink().minReplicas())
                .isEqualTo(SinkConfig.ALL_REPLICAS);
        assertThat(c.sink().sentinels()).containsExactly("10.0.0.1:26379", "10.0.0.2:26379");
        assertThat(c.resp().port()).isEqualTo(7000);
        assertThat(c.spill().maxBytes()).isEqualTo(2L << 30);
        assertThat(c.limits().idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(ConfigLoader.load(f, Map.of("SPILLWAY_IO_THREADS", "3")).ioThreads()).isEqualTo(3);
        assertThat(c.ioThreads()).as("0 = one per two processors, at least one")
                .isEqualTo(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
    }

    @Test
    void rejectsUnknownSettingNamingIt() throws Exception {
        Path f = write("sink:\n  ack:\n    minReplica: 2\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("sink.ack.minReplica: unknown setting").hasMessageContaining("minReplicas");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_SINK_ACK_MINREPLICAS", "2")))
                .hasMessageContaining("environment variable SPILLWAY_SINK_ACK_MINREPLICAS: unknown setting");
    }

    @Test
    void rejectsBadValuesNamingFieldValueAndExpectation() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(write("limits:\n  maxValueBytes: lots\n"), Map.of()))
                .hasMessage("limits.maxValueBytes: 'lots' (expected: an integer)");
        assertThatThrownBy(() -> ConfigLoader.load(write("limits:\n  maxValueBytes: 0\n"), Map.of()))
                .hasMessage("limits.maxValueBytes: 0 (expected: > 0)");
        assertThatThrownBy(() -> ConfigLoader.load(write("sink:\n  redis:\n    timeout: soon\n"), Map.of()))
                .hasMessageContaining("sink.redis.timeout: 'soon' (expected: a duration");
        assertThatThrownBy(() -> ConfigLoader.load(write("sink:\n  ack:\n    minReplicas: -1\n"), Map.of()))
                .hasMessage("sink.ack.minReplicas: -1 (expected: >= 0 or 'all')");
        assertThatThrownBy(() -> ConfigLoader.load(write("sink:\n  ack:\n    minReplicas: most\n"), Map.of()))
                .hasMessage("sink.ack.minReplicas: most (expected: >= 0 or 'all')");
        assertThatThrownBy(() -> ConfigLoader.load(write("sink:\n  redis:\n    sentinels: [nohostport]\n"), Map.of()))
                .hasMessage("sink.redis.sentinels: nohostport (expected: host:port)");
        assertThatThrownBy(() -> ConfigLoader.load(write("listeners:\n  resp:\n    port: 70000\n"), Map.of()))
                .hasMessage("listeners.resp.port: 70000 (expected: 0..65535; 0 = any free port)");
        assertThatThrownBy(() -> ConfigLoader.load(write("ioThreads: -1\n"), Map.of()))
                .hasMessage("ioThreads: -1 (expected: 0 for one per two processors, or 1 to 1024)");
        assertThatThrownBy(() -> ConfigLoader.load(write("spill:\n  maxBytes: 0\n"), Map.of()))
                .hasMessage("spill.maxBytes: 0 (expected: > 0)");
        assertThatThrownBy(() -> ConfigLoader.load(write("- just\n- a list\n"), Map.of()))
                .hasMessageContaining("expected a YAML mapping");
    }

    @Test
    void theExampleFileNamesEverySettingAndNothingElse() throws Exception {
        com.fasterxml.jackson.databind.JsonNode tree = new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(Path.of("relay.example.yaml").toFile());
        List<String> inExample = new java.util.ArrayList<>();
        leaves("", tree, inExample);
        assertThat(inExample).containsExactlyInAnyOrderElementsOf(ConfigLoader.settings());
    }

    @Test
    void theConfigurationReferenceDocumentsEverySettingWithItsVariable() throws Exception {
        Map<String, String> rows = new java.util.LinkedHashMap<>(); // setting -> its table row
        for (String line : Files.readAllLines(Path.of("..", "docs", "configuration.md"))) {
            if (!line.startsWith("| `")) {
                continue;
            }
            String first = line.substring(2, line.indexOf(" |", 2));
            String base = null;
            for (String part : first.split(" / ")) {
                String name = part.trim().replace("`", "");
                if (name.startsWith(".")) {
                    name = base.substring(0, base.lastIndexOf('.')) + name;
                }
                base = name;
                rows.put(name, line);
            }
        }
        assertThat(rows.keySet()).containsExactlyInAnyOrderElementsOf(ConfigLoader.settings());
        rows.forEach((setting, row) -> assertThat(row).as(setting).contains(ConfigLoader.envName(setting)));
    }

    @Test
    void everySettingHasAnEnvironmentVariable() {
        assertThat(ConfigLoader.settings()).contains("sink.retry.wait", "sink.breaker.failureRate",
                "listeners.admin.peers", "spill.reserveBytes", "metrics.graphite.interval");
        RelayConfig c = ConfigLoader.load(null, Map.of("SPILLWAY_SINK_RETRY_WAIT", "75ms",
                "SPILLWAY_SINK_BREAKER_FAILURE_RATE", "25.5", "SPILLWAY_LISTENERS_ADMIN_PEERS", "a:1,b:2",
                "SPILLWAY_LISTENERS_LINE_ENABLED", "off", "SPILLWAY_SPILL_RESERVE_BYTES", "2MiB",
                "SPILLWAY_METRICS_GRAPHITE_HOST", "g.example", "SPILLWAY_NAME", "r7"));
        assertThat(c.sink().retryWait()).isEqualTo(Duration.ofMillis(75));
        assertThat(c.sink().breakerFailureRate()).isEqualTo(25.5f);
        assertThat(c.adminPeers()).containsExactly("a:1", "b:2");
        assertThat(c.line().enabled()).isFalse();
        assertThat(c.spill().reserveBytes()).isEqualTo(2L << 20);
        assertThat(c.graphite().host()).isEqualTo("g.example");
        assertThat(c.graphite().prefix()).isEqualTo("spillway.r7");
        for (String setting : ConfigLoader.settings()) {
            assertThat(ConfigLoader.envName(setting)).startsWith("SPILLWAY_").doesNotContain(".");
        }
    }

    @Test
    void rejectsWrongShapesNamingTheSetting() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(write("listeners:\n  line:\n    enabled: maybe\n"), Map.of()))
                .hasMessage("listeners.line.enabled: 'maybe' (expected: true or false)");
        assertThatThrownBy(() -> ConfigLoader.load(write("spill:\n  maxBytes: huge\n"), Map.of()))
                .hasMessage("spill.maxBytes: 'huge' (expected: a size in bytes, optionally with KiB, MiB or GiB)");
        assertThatThrownBy(() -> ConfigLoader.load(write("sink:\n  retry: 3\n"), Map.of()))
                .hasMessageStartingWith("sink.retry: ");
        assertThatThrownBy(() -> ConfigLoader.load(write("sink:\n  breaker:\n    windw: 2s\n"), Map.of()))
                .hasMessageContaining("sink.breaker.windw: unknown setting").hasMessageContaining("window");
        assertThatThrownBy(() -> ConfigLoader.load(write("listeners:\n  http:\n    port: -5\n"), Map.of()))
                .hasMessage("listeners.http.port: -5 (expected: 0..65535; 0 = any free port)");
    }

    private static void leaves(String prefix, com.fasterxml.jackson.databind.JsonNode node, List<String> out) {
        node.fields().forEachRemaining(e -> {
            String path = prefix + e.getKey();
            if (e.getValue().isObject()) {
                leaves(path + ".", e.getValue(), out);
            } else {
                out.add(path);
            }
        });
    }

    private Path write(String yaml) throws Exception {
        Path f = Files.createTempFile(dir, "relay", ".yaml");
        Files.writeString(f, yaml);
        return f;
    }
}
