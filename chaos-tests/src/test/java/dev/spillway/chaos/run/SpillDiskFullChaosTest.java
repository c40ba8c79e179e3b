package dev.spillway.chaos.run;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spillway.chaos.topology.LocalCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full spill disk at the worst moment, three times over: real processes (3 Redis, 3
 * Sentinels, 3 relays behind HAProxy), each relay's spill directory on its own 16 MiB tmpfs
 * with 1 MiB segments; four pipelining RESP connections (bursts of 16 commands of 1-3 values
 * over four RPUSH and four LPUSH lists, 2,000 values/s each), a line and an HTTP producer. Each
 * {@link Fault#SPILL_DISK_FULL} fills every spill disk to 1 MiB free, freezes both replicas
 * until every relay has spilled into that space and reported {@code full}, and lets Redis
 * confirm writes again while the disks are still full: every relay must drain its spill
 * completely on a full disk, and be {@code ok} once the filler is gone.
 *
 * <p>What producers may see: refusals naming the full disk, and only while the fault lasts — RESP
 * {@code -BUSY spill disk full…}, line {@code ERR spill disk full…}, HTTP 503 with {@code spill
 * disk full} in the body; at least some of them (else the fault was too gentle). Every
 * acknowledged value must be in Redis exactly once, in order per connection and list, and no
 * refused value may be there (a refused request is all-or-nothing). Reports:
 * {@code target/spill-disk-full.txt|json}, node logs in {@code target/spill-disk-full-logs}.
 */
class SpillDiskFullChaosTest {

    private static final long SPILL_DISK_BYTES = 16L * 1024 * 1024;
    private static final int FAULTS = 3;
    private static final int PIPELINED_CONNECTIONS = 4;
    private static final int DEPTH = 16;
    private static final int VALUES_PER_SECOND = 2000;
    private static final String DISK_FULL = "spill disk full";

    @TempDir
    Path tmp;

    @Test
    void relaysRefuseByNameOnAFullSpillDiskAndDrainWhileItIsStillFull() throws Exception {
        ChaosRun.Options options = new ChaosRun.Options(Collections.nCopies(FAULTS, List.of(Fault.SPILL_DISK_FULL)),
                Duration.ofMinutes(3), FAULTS, 1, 200, 31, "data_queue", "diskfull:", true)
                .pipelined(PIPELINED_CONNECTIONS, DEPTH, VALUES_PER_SECOND).steady(Duration.ofMillis(500));
        long start = System.nanoTime();
        Path cluster = tmp.resolve("cluster");
        ChaosReport report;
        try (ProcessTopology t = new ProcessTopology(LocalCluster.start(cluster,
                LocalCluster.Layout.forTests(3, Map.of()).withSpillDisk(SPILL_DISK_BYTES)), true)) {
            report = new ChaosRun(options).run(t, line -> System.out.println("spill-disk-full: " + line));
        } finally {
            ClusterLogs.keep(cluster, Path.of("target", "spill-disk-full-logs"));
        }
        String text = report.toText() + String.format("wall time (cluster start to verdict): %.1f s%n",
                (System.nanoTime() - start) / 1e9);
        System.out.println(text);
        Files.writeString(Path.of("target", "spill-disk-full.txt"), text);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(Path.of("target", "spill-disk-full.json").toFile(), report);

        assertThat(report.faults()).as("faults injected").hasSize(FAULTS);
        assertThat(report.faults()).as("in every fault some relay reported full in /health while it could not spill")
                .allSatisfy(f -> assertThat(f.what()).doesNotContain(SpillDiskFull.NO_RELAY_FULL));
        assertThat(report.refused()).as("values refused on the full disk (none: the fault was too gentle)")
                .isPositive();
        assertThat(report.firstErrorsOutsideFaults()).as("producer-visible errors outside the faults").isEmpty();
        assertThat(report.refused()).as("every producer-visible error is a refusal (no outcome left unknown)")
                .isEqualTo(report.producerErrors());
        assertThat(report.errorReasons().keySet()).as("every refusal names the full disk, in its protocol's way")
                .allSatisfy(reason -> assertThat(isDiskFullRefusal(reason)).as(reason).isTrue());
        assertThat(report.maxInFlight()).as("commands in flight on one connection").isGreaterThanOrEqualTo(DEPTH);
        assertThat(report.check().lost()).as("lost").isEmpty();
        assertThat(report.check().duplicated()).as("duplicated").isEmpty();
        assertThat(report.check().reordered()).as("reordered").isEmpty();
        assertThat(report.check().unexpected()).as("unexpected").isEmpty();
        assertThat(report.check().refusedPresent()).as("refused, yet in Redis").isEmpty();
        assertThat(report.acked()).isGreaterThan(20_000);
    }

    /** A reason as {@link ChaosReport#errorReasons} counts it: protocol, then the reply. */
    private static boolean isDiskFullRefusal(String reason) {
        if (reason.startsWith("resp-pipelined ")) {
            return reason.startsWith("resp-pipelined -BUSY " + DISK_FULL);
        }
        if (reason.startsWith("line ")) {
            return reason.startsWith("line ERR " + DISK_FULL);
        }
        if (reason.startsWith("http ")) {
            return reason.startsWith("http 503 ") && reason.contains(DISK_FULL);
        }
        return false;
    }
}
