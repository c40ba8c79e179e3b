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
 * The failover windows a one-at-a-time producer and a master resumed after the failover never
 * reach: real processes (3 Redis, 3 Sentinels, 3 relays behind HAProxy), four pipelining RESP
 * connections (bursts of 16 commands of 1-3 values over four RPUSH and four LPUSH lists, up to
 * 32 commands unanswered per connection) plus a line and an HTTP producer, and one fault kind
 * per test, many times over:
 * <ul>
 *   <li>a frozen master resumed the very moment a Sentinel announces {@code +promoted-slave};
 *   <li>an operator's {@code SENTINEL FAILOVER} of a live, busy master;
 *   <li>two of three Sentinels frozen, so no relay can hear a majority (each relay must spill
 *       meanwhile, and write directly again after).
 * </ul>
 * Every acknowledged value must be in Redis exactly once, in order per connection and list, and
 * no producer may see an error. Reports: {@code target/failover-window-<test>.txt|json}.
 *
 * <p>Time: each failover settles only once the old master is a replica again, which Sentinel does
 * four hello periods after it sees it back, at its next INFO of it (10 s by default). So that 20
 * failovers fit in about four minutes, the Sentinels here read INFO and say hello every second
 * ({@code SENTINEL DEBUG info-period 1000 publish-period 1000}): the resumed old master is
 * converted after about 5 s instead of 10 s. The faults are untouched (down-after 1 s, the
 * moment of the resume, SENTINEL FAILOVER), and so is the window that matters: a resumed old
 * master can acknowledge a write only while a replica still follows it, and refuses writes
 * ({@code min-replicas-max-lag 2}) within 2 s of its last replica leaving either way.
 */
class FailoverWindowChaosTest {

    private static final int PIPELINED_CONNECTIONS = 4;
    private static final int DEPTH = 16;
    private static final int VALUES_PER_SECOND = 600;
    private static final Map<String, Integer> SENTINEL_TIMERS = Map.of("info-period", 1000, "publish-period", 1000);

    @TempDir
    Path tmp;

    private static ChaosRun.Options options(Fault fault, int times, long seed, String prefix) {
        return new ChaosRun.Options(Collections.nCopies(times, List.of(fault)), Duration.ofMinutes(6), times, 1, 50,
                seed, "data_queue", prefix, true).pipelined(PIPELINED_CONNECTIONS, DEPTH, VALUES_PER_SECOND)
                .steady(Duration.ofMillis(300));
    }

    private ChaosReport run(String name, ChaosRun.Options options) throws Exception {
        long start = System.nanoTime();
        Path cluster = tmp.resolve("cluster");
        try (ProcessTopology t = new ProcessTopology(LocalCluster.start(cluster,
                LocalCluster.Layout.forTests(3, Map.of()).withSentinelDebug(SENTINEL_TIMERS)), true)) {
            ChaosReport report = new ChaosRun(options).run(t, line -> System.out.println(name + ": " + line));
            String text = report.toText() + String.format("wall time (cluster start to verdict): %.1f s%n",
                    (System.nanoTime() - start) / 1e9);
            System.out.println(text);
            Files.writeString(Path.of("target", "failover-window-" + name + ".txt"), text);
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValue(Path.of("target", "failover-window-" + name + ".json").toFile(), report);
            return report;
        } finally {
            ClusterLogs.keep(cluster, Path.of("target", "failover-window-" + name + "-logs"));
        }
    }

    private static void assertNothingLost(ChaosReport report, int faults) {
        assertThat(report.faults()).as("faults injected").hasSize(faults);
        assertThat(report.maxInFlight()).as("commands in flight on one connection").isGreaterThanOrEqualTo(DEPTH);
        assertThat(report.check().lost()).as("lost").isEmpty();
        assertThat(report.check().duplicated()).as("duplicated").isEmpty();
        assertThat(report.check().reordered()).as("reordered").isEmpty();
        assertThat(report.check().unexpected()).as("unexpected").isEmpty();
        assertThat(report.firstErrors()).as("producer-visible errors").isEmpty();
        assertThat(report.acked()).isGreaterThan(20_000);
    }

    @Test
    void aMasterResumedAtTheMomentOfPromotionLosesNothing() throws Exception {
        ChaosReport report = run("pause-until-promotion", options(Fault.PAUSE_UNTIL_PROMOTION, 20, 21,
                "promotion:"));
        assertThat(report.failoversSeen()).as("failovers").isGreaterThanOrEqualTo(20);
        assertNothingLost(report, 20);
    }

    @Test
    void operatorFailoversOfABusyMasterLoseNothing() throws Exception {
        ChaosReport report = run("manual-failover", options(Fault.MANUAL_FAILOVER, 20, 22, "manual:"));
        assertThat(report.failoversSeen()).as("failovers").isGreaterThanOrEqualTo(20);
        assertNothingLost(report, 20);
    }

    @Test
    void sentinelMajorityFrozenLosesNothing() throws Exception {
        ChaosReport report = run("freeze-sentinel-majority", options(Fault.FREEZE_SENTINEL_MAJORITY, 3, 23,
                "sentinels:"));
        assertNothingLost(report, 3);
        assertThat(report.faults()).as("relays spilled while no Sentinel majority could be heard, then wrote "
                + "directly again (drained)").allSatisfy(f -> assertThat(f.what()).contains(
                        Fault.SPILLED_ON_EVERY_RELAY));
    }
}
