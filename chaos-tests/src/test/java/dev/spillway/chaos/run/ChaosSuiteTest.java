package dev.spillway.chaos.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spillway.chaos.topology.LocalCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bounded chaos suite run by {@code ./spillway test}: real processes (3 Redis, 3 Sentinels,
 * 3 relays, HAProxy), producers through HAProxy — pipelining RESP connections (bursts of 16
 * commands of 1-3 values over four RPUSH and four LPUSH lists), line and HTTP — and a fixed sequence of
 * faults — ten master faults of three kinds (one of them together with a relay kill) and a relay
 * kill. Every acknowledged message must be in Redis exactly once, in order per connection.
 */
class ChaosSuiteTest {

    @TempDir
    Path tmp;

    @Test
    void tenMasterFaultsAndRelayKillsLoseNothing() throws Exception {
        List<List<Fault>> sequence = List.of(
                List.of(Fault.KILL_MASTER), List.of(Fault.PAUSE_MASTER), List.of(Fault.SHUTDOWN_MASTER),
                List.of(Fault.KILL_MASTER), List.of(Fault.PAUSE_MASTER), List.of(Fault.SHUTDOWN_MASTER),
                List.of(Fault.KILL_MASTER, Fault.KILL_RELAY), List.of(Fault.PAUSE_MASTER), List.of(Fault.KILL_SENTINEL),
                List.of(Fault.SHUTDOWN_MASTER), List.of(Fault.KILL_MASTER), List.of(Fault.KILL_RELAY));
        ChaosRun.Options options = new ChaosRun.Options(sequence, Duration.ofMinutes(8), sequence.size(), 2, 100, 7,
                "data_queue", "suite:", true).pipelined(3, 16, 500);
        try (ProcessTopology t = new ProcessTopology(LocalCluster.start(tmp.resolve("cluster"),
                LocalCluster.Layout.forTests(3, Map.of())), true)) {
            ChaosReport report = new ChaosRun(options).run(t, line -> System.out.println("chaos: " + line));
            System.out.println(report.toText());
            Path json = Path.of("target", "chaos-report.json");
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(json.toFile(), report);
            Files.writeString(Path.of("target", "chaos-report.txt"), report.toText());

            assertThat(report.faults()).hasSize(sequence.size());
            assertThat(report.maxInFlight()).as("commands in flight on one connection").isGreaterThanOrEqualTo(16);
            assertThat(report.failoversSeen()).as("master faults produced failovers").isGreaterThanOrEqualTo(10);
            assertThat(report.check().lost()).as("lost").isEmpty();
            assertThat(report.check().duplicated()).as("duplicated").isEmpty();
            assertThat(report.check().reordered()).as("reordered").isEmpty();
            assertThat(report.check().unexpected()).as("unexpected").isEmpty();
            assertThat(report.firstErrors()).as("producer-visible errors").isEmpty();
            assertThat(report.acked()).isGreaterThan(5_000);
        }
    }

    @Test
    void aSmallSpillLimitRefusesClearlyAndLosesNothingAcknowledged() throws Exception {
        Map<String, Object> small = Map.of("spill", Map.of("maxBytes", "128KiB", "segmentBytes", "64KiB",
                "maxRecordBytes", "16KiB"), "limits", Map.of("maxValueBytes", 4096));
        ChaosRun.Options options = new ChaosRun.Options(List.of(List.of(Fault.ALL_REDIS_DOWN)), Duration.ofMinutes(2), 1,
                2, 300, 11, "data_queue", "small:", true).pipelined(2, 16, 600);
        try (ProcessTopology t = new ProcessTopology(LocalCluster.start(tmp.resolve("cluster"),
                LocalCluster.Layout.forTests(1, small)), true)) {
            ChaosReport report = new ChaosRun(options).run(t, line -> System.out.println("chaos: " + line));
            System.out.println(report.toText());
            assertThat(report.producerErrors()).as("producers met the full spill").isPositive();
            assertThat(report.firstErrors()).allSatisfy(e -> assertThat(e).containsAnyOf("spill log full", "BUSY"));
            assertThat(report.check().ok()).as(report.check().toString()).isTrue();
        }
    }
}
