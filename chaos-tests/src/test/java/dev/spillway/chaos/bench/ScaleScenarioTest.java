package dev.spillway.chaos.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.RelayServer;
import dev.spillway.relay.config.ConfigLoader;
import dev.spillway.relay.config.RelayConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small scale run against a real Sentinel group and a relay: redis-benchmark with several
 * clients, and many line producers through the relay against the same load as RPUSH straight to
 * the master. Every row has its messages, CPU per process and ratio, in the table and the JSON;
 * the scenario itself checks that the list held exactly what was acknowledged.
 */
class ScaleScenarioTest {

    private static final int CLIENTS = 20;
    private static final int REQUESTS = 5_000;
    private static final int CONNECTIONS = 60;
    private static final int LINES = 5;

    @Test
    void buildsTheManyClientAndManyConnectionRowsWithCpuAndRatios(@TempDir Path tmp) throws Exception {
        try (SentinelGroup group = SentinelGroup.start(tmp.resolve("group"), SentinelGroup.Options.forTests());
                RelayServer relay = startRelay(group, tmp.resolve("spill"))) {
            int master = group.awaitHealthy(Duration.ofSeconds(30)).port();
            int line = relay.addresses().get("line").getPort();
            CpuAccounting cpu = CpuAccounting.of(group, List.of(), null);
            ScaleScenario scenario = new ScaleScenario(group,
                    List.of(new RedisBenchmarkScenario.Target("master (direct)", master, BenchRow.Role.DIRECT)),
                    List.of(new ScaleScenario.LineTarget("master (direct, RPUSH per line)", master,
                                    ConnectionsLoad.Protocol.RESP_RPUSH, BenchRow.Role.DIRECT),
                            new ScaleScenario.LineTarget("relay (line)", line, ConnectionsLoad.Protocol.LINE,
                                    BenchRow.Role.RELAYS)),
                    RelayConfig.DEFAULT_LINE_KEY, CLIENTS, REQUESTS, CONNECTIONS, LINES, 1, cpu);
            List<BenchRow> rows = scenario.run();

            assertThat(rows).extracting(BenchRow::test).containsExactly(
                    "redis-benchmark rpush -d 100, " + CLIENTS + " clients", scenario.lineTest(), scenario.lineTest());
            assertThat(rows).extracting(BenchRow::target).containsExactly("master (direct)",
                    "master (direct, RPUSH per line)", "relay (line)");
            assertThat(rows.get(0).cpu().messages()).isEqualTo(REQUESTS);
            assertThat(rows.get(0).cpu().processes().get(0).ticks()).as("the master's CPU").isPositive();
            for (BenchRow row : rows.subList(1, 3)) {
                assertThat(row.cpu().messages()).as(row.target()).isEqualTo((long) CONNECTIONS * LINES);
                assertThat(row.note()).as(row.target()).isEmpty();
                assertThat(row.p50()).as(row.target()).isPositive();
                assertThat(row.p99()).as(row.target()).isGreaterThanOrEqualTo(row.p50());
            }
            for (BenchRow row : rows) {
                assertThat(row.perSecond()).as(row.target()).isPositive();
                assertThat(row.cpu().processes()).extracting(CpuUse.Process::role).containsExactly("master",
                        "replica", "replica", "sentinel", "sentinel", "sentinel", "load generator");
                assertThat(row.cpu().seconds()).as(row.target()).isPositive();
            }
            assertThat(group.awaitHealthy(Duration.ofSeconds(10)).cli("LLEN", RelayConfig.DEFAULT_LINE_KEY))
                    .isEqualTo("0");

            ResultsTable table = new ResultsTable();
            table.addAll(rows);
            String printed = printed(table);
            assertThat(printed).containsPattern(scenario.lineTest() + " +relay \\(line\\) +\\d+ .*\\d\\.\\d\\dx direct");
            JsonNode json = new ObjectMapper().readTree(new ObjectMapper().writeValueAsString(table.toJson()));
            assertThat(json.get("rows")).hasSize(3);
            assertThat(json.get("rows").get(2).get("cpu").get("messages").asLong()).isEqualTo((long) CONNECTIONS * LINES);
        }
    }

    @Test
    void bulkLoadsThroughTheRelayLandWholeAndAreRowsWithCpuAndRatios(@TempDir Path tmp) throws Exception {
        try (SentinelGroup group = SentinelGroup.start(tmp.resolve("group"), SentinelGroup.Options.forTests());
                RelayServer relay = startRelay(group, tmp.resolve("spill"))) {
            int master = group.awaitHealthy(Duration.ofSeconds(30)).port();
            int resp = relay.addresses().get("resp").getPort();
            CpuAccounting cpu = CpuAccounting.of(group, List.of(), null);
            BulkLoadScenario bulk = new BulkLoadScenario(group, List.of(
                    new RedisBenchmarkScenario.Target("master (direct)", master, BenchRow.Role.DIRECT),
                    new RedisBenchmarkScenario.Target("relay (direct)", resp, BenchRow.Role.RELAYS)), 20_000, 1, cpu);
            List<BenchRow> rows = bulk.run();

            assertThat(rows).extracting(BenchRow::test).containsOnly("redis-cli --pipe, 20,000 RPUSH -d 100");
            assertThat(rows).extracting(BenchRow::target).containsExactly("master (direct)", "relay (direct)");
            for (BenchRow row : rows) {
                assertThat(row.perSecond()).as(row.target()).isPositive();
                assertThat(row.cpu().messages()).isEqualTo(20_000);
                assertThat(row.cpu().processes()).extracting(CpuUse.Process::name).contains("redis-cli");
                assertThat(row.note()).matches("\\d+\\.\\d\\d s");
            }
            ResultsTable table = new ResultsTable();
            table.addAll(rows);
            assertThat(printed(table)).containsPattern("redis-cli --pipe, 20,000 RPUSH -d 100 +relay \\(direct\\) +\\d+ "
                    + ".*\\d\\.\\d\\dx direct");

            // a load that does not land whole is not a result
            group.awaitHealthy(Duration.ofSeconds(10)).cli("SET", BulkLoadScenario.KEY, "a string");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> new BulkLoadScenario(group, List.of(
                    new RedisBenchmarkScenario.Target("relay (direct)", resp, BenchRow.Role.RELAYS)), 1_000, 1, cpu).run())
                    .hasMessageContaining("did not get 1000 replies without error");
        }
    }

    @Test
    void theMastersCostPerBatchIsARowPerSizeWithEveryBatchLanded(@TempDir Path tmp) throws Exception {
        try (SentinelGroup group = SentinelGroup.start(tmp.resolve("group"), SentinelGroup.Options.forTests())) {
            var master = group.awaitHealthy(Duration.ofSeconds(30));
            CpuAccounting cpu = CpuAccounting.of(group, List.of(), null);
            List<BenchRow> rows = new BatchCostScenario(group, List.of(1, 20), 300, cpu).run();

            assertThat(rows).extracting(BenchRow::target).containsExactly("1 message per batch", "20 messages per batch");
            for (BenchRow row : rows) {
                assertThat(row.test()).isEqualTo(BatchCostScenario.test());
                assertThat(row.perSecond()).as(row.target()).isPositive();
                assertThat(row.cpu().messages()).as("CPU per batch").isEqualTo(300);
                assertThat(row.cpu().processes()).extracting(CpuUse.Process::role).contains("master", "load generator");
                assertThat(row.note()).matches("master \\d+ µs per batch, \\d+\\.\\d µs per message");
            }
            assertThat(master.cli("EXISTS", BatchCostScenario.KEY)).as("the list is emptied").isEqualTo("0");
            assertThat(master.cli("INFO", "commandstats")).as("the script goes by its digest")
                    .containsPattern("cmdstat_evalsha:calls=(\\d{4,}|[7-9]\\d\\d)");
        }
    }

    @Test
    void aRefusedMessageIsCountedAndNamed(@TempDir Path tmp) throws Exception {
        try (SentinelGroup group = SentinelGroup.start(tmp.resolve("group"), SentinelGroup.Options.forTests())) {
            int master = group.awaitHealthy(Duration.ofSeconds(30)).port();
            group.awaitHealthy(Duration.ofSeconds(10)).cli("SET", "bench:string", "x");
            ConnectionsLoad.Result r = new ConnectionsLoad(master, ConnectionsLoad.Protocol.RESP_RPUSH, "bench:string",
                    3, 2, Duration.ofSeconds(30)).run(() -> { });
            assertThat(r.acked()).isZero();
            assertThat(r.errors()).isEqualTo(6);
            assertThat(r.unfinished()).isZero();
            assertThat(r.firstError()).startsWith("-WRONGTYPE");
        }
    }

    private static RelayServer startRelay(SentinelGroup group, Path spill) throws Exception {
        RelayConfig config = ConfigLoader.load(null, Map.of(
                "SPILLWAY_LISTENERS_RESP_PORT", "0",
                "SPILLWAY_LISTENERS_LINE_PORT", "0",
                "SPILLWAY_LISTENERS_HTTP_PORT", "0",
                "SPILLWAY_LISTENERS_ADMIN_PORT", "0",
                "SPILLWAY_SINK_REDIS_SENTINELS", String.join(",", group.sentinelAddresses()),
                "SPILLWAY_SPILL_DIR", spill.toString(),
                "SPILLWAY_SHUTDOWN_DRAIN_NOTICE", "0s"));
        RelayServer server = RelayServer.start(config, new MetricRegistry());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!server.relay().redisConnected() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        assertThat(server.relay().redisConnected()).as("the relay reaches the master").isTrue();
        return server;
    }

    private static String printed(ResultsTable table) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        table.print(new PrintStream(buf, true, StandardCharsets.UTF_8));
        return buf.toString(StandardCharsets.UTF_8);
    }
}
