package dev.spillway.chaos.cli;

import dev.spillway.chaos.bench.AckedLoadScenario;
import dev.spillway.chaos.bench.BatchCostScenario;
import dev.spillway.chaos.bench.BenchRow;
import dev.spillway.chaos.bench.BulkLoadScenario;
import dev.spillway.chaos.bench.ConnectionsLoad;
import dev.spillway.chaos.bench.CpuAccounting;
import dev.spillway.chaos.bench.FailoverScenario;
import dev.spillway.chaos.bench.Goals;
import dev.spillway.chaos.bench.RedisBenchmarkScenario;
import dev.spillway.chaos.bench.ResultsTable;
import dev.spillway.chaos.bench.RssSampler;
import dev.spillway.chaos.bench.ScaleScenario;
import dev.spillway.chaos.bench.SpillScenario;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.relay.config.RelayConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench}: the relay against direct Redis on the local cluster, side by side in one run.
 * Numbers on a shared machine are noisy, so every comparison is made in the same run, targets
 * alternate, and the table reports ratios. Every row that acknowledges messages also carries the
 * CPU time per message of every process involved ({@link CpuAccounting}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark the relay against direct Redis in one run; print a table with ratios and write JSON.")
public final class BenchCommand implements Callable<Integer> {

    /** What a run measures. */
    enum Scenario {
        /** Everything: the redis-benchmark matrix, the acked loads, RSS, scale, failover, spill log. */
        all,
        /** Many producers alone: 200 redis-benchmark clients and 1,000 line connections. */
        scale,
        /** The redis-benchmark matrix, the bulk loads and the master's cost per batch: what a change of the hot path buys. */
        matrix,
        /** The ack-checking producers alone, at --rate or half the peak through HAProxy -> relays (measured first). */
        latency
    }

    @Option(names = "--scenario", defaultValue = "all", description = "What to measure: ${COMPLETION-CANDIDATES} "
            + "(scale: the 200-client and 1,000-connection rows alone; matrix: the redis-benchmark matrix, the "
            + "bulk loads and the master's cost per batch alone; latency: the ack-checking producers alone; "
            + "default: all).")
    Scenario scenario;

    @Option(names = "--clients", defaultValue = "200", description = "redis-benchmark clients of the scale rows.")
    int clients;

    @Option(names = "--connections", defaultValue = "1000",
            description = "Line producers of the scale rows, one connection each.")
    int connections;

    @Option(names = "--lines", defaultValue = "100",
            description = "Messages each line producer sends, one at a time, in each scale run.")
    int lines;

    @Mixin
    BaseOption base;

    @Option(names = "--bulk", defaultValue = "200000",
            description = "RPUSH commands of each redis-cli --pipe bulk load; 0 leaves the bulk loads out.")
    int bulk;

    @Option(names = "--batch-cost", defaultValue = "2000",
            description = "Batches of each size (1, 6, 17, 50, 200 messages) written one at a time to measure the "
            + "master's CPU per relay batch; 0 leaves them out.")
    int batchCost;

    @Option(names = "--requests", defaultValue = "100000", description = "redis-benchmark requests per unpipelined run.")
    int requests;

    @Option(names = "--rounds", defaultValue = "2", description = "Alternating rounds per target (best kept).")
    int rounds;

    @Option(names = "--rate", defaultValue = "0", description = "Offered load (msg/s) of the ack-checking runs; "
            + "0 (default): half the peak measured through HAProxy -> relays.")
    int rate;

    @Option(names = "--failover-rate", defaultValue = "2000", description = "Offered load (msg/s) of the failover run.")
    int failoverRate;

    @Option(names = "--backlog", defaultValue = "10000000",
            description = "Messages in the spill backlog run (heap must stay flat); 0 leaves it out.")
    long backlog;

    @Option(names = "--seconds", defaultValue = "10", description = "Length of each ack-checking run.")
    int seconds;

    @Option(names = "--skip-failover", description = "Leave out the failover run.")
    boolean skipFailover;

    @Option(names = "--json", defaultValue = ".spillway/bench-results.json", description = "Results file.")
    Path json;

    @Override
    public Integer call() throws Exception {
        LocalCluster cluster = ChaosCommand.attached(base);
        var s = cluster.state();
        awaitPassthroughOnMaster(cluster);
        ResultsTable table = new ResultsTable();
        List<RedisBenchmarkScenario.Target> targets = List.of(
                new RedisBenchmarkScenario.Target("master (direct)", masterPort(cluster), BenchRow.Role.DIRECT),
                new RedisBenchmarkScenario.Target("HAProxy -> relays", s.respPort(), BenchRow.Role.RELAYS),
                new RedisBenchmarkScenario.Target("relay-1 (direct)", cluster.relays().get(0).port(),
                        BenchRow.Role.COMPARED),
                new RedisBenchmarkScenario.Target("HAProxy passthrough -> master", s.passthroughPort(),
                        BenchRow.Role.PASSTHROUGH));

        CpuAccounting cpu = CpuAccounting.of(cluster.group(), cluster.relays(), cluster.haproxy());
        if (scenario == Scenario.scale) {
            table.addAll(scale(cluster, cpu).run());
            return finish(table);
        }
        if (scenario == Scenario.latency) {
            int offered = rate;
            if (offered <= 0) {
                List<BenchRow> peak = new RedisBenchmarkScenario(cluster.group(), targets.subList(1, 2), requests, 1,
                        cpu).run();
                table.addAll(peak);
                offered = (int) Math.max(100, RedisBenchmarkScenario.peakThroughRelays(peak).orElse(4000) / 2);
            }
            table.addAll(new AckedLoadScenario(cluster.group(), s.respPort(), offered, rate <= 0, seconds, cpu).run());
            return finish(table);
        }
        RssSampler rss = new RssSampler(cluster.relays());
        rss.start();
        List<BenchRow> benchmark = new RedisBenchmarkScenario(cluster.group(), targets, requests, rounds, cpu).run();
        table.addAll(benchmark);
        if (bulk > 0) {
            table.addAll(new BulkLoadScenario(cluster.group(), targets, bulk, rounds, cpu).run());
        }
        if (batchCost > 0) {
            table.addAll(new BatchCostScenario(cluster.group(), BatchCostScenario.DEFAULT_SIZES, batchCost, cpu).run());
        }
        if (scenario == Scenario.matrix) {
            table.addAll(rss.stop());
            return finish(table);
        }
        int offered = rate > 0 ? rate
                : (int) Math.max(100, RedisBenchmarkScenario.peakThroughRelays(benchmark).orElse(4000) / 2);
        table.addAll(new AckedLoadScenario(cluster.group(), s.respPort(), offered, rate <= 0, seconds, cpu).run());
        table.addAll(scale(cluster, cpu).run());
        table.addAll(rss.stop());
        if (!skipFailover) {
            table.addAll(new FailoverScenario(cluster, failoverRate, cpu).run());
        }
        table.addAll(new SpillScenario(backlog).run());
        return finish(table);
    }

    /** Prints the tables and each goal's figure, and writes the JSON file (rows and goals). */
    private int finish(ResultsTable table) throws IOException {
        table.print();
        List<Goals.Goal> goals = Goals.of(table.rows());
        Goals.print(goals, System.out);
        Map<String, Object> out = table.toJson();
        out.put("goals", goals);
        System.out.println("JSON: " + JsonFile.write(json, out));
        return 0;
    }

    /**
     * Many producers, each test against the master written directly, the HAProxy passthrough and
     * HAProxy -> relays. The line producers' direct and passthrough equivalent is one {@code RPUSH}
     * per message to the relays' line list.
     */
    private ScaleScenario scale(LocalCluster cluster, CpuAccounting cpu) throws IOException {
        var s = cluster.state();
        int master = masterPort(cluster);
        List<RedisBenchmarkScenario.Target> benchmark = List.of(
                new RedisBenchmarkScenario.Target("master (direct)", master, BenchRow.Role.DIRECT),
                new RedisBenchmarkScenario.Target("HAProxy passthrough -> master", s.passthroughPort(),
                        BenchRow.Role.PASSTHROUGH),
                new RedisBenchmarkScenario.Target("HAProxy -> relays", s.respPort(), BenchRow.Role.RELAYS));
        List<ScaleScenario.LineTarget> line = List.of(
                new ScaleScenario.LineTarget("master (direct, RPUSH)", master,
                        ConnectionsLoad.Protocol.RESP_RPUSH, BenchRow.Role.DIRECT),
                new ScaleScenario.LineTarget("passthrough -> master (RPUSH)", s.passthroughPort(),
                        ConnectionsLoad.Protocol.RESP_RPUSH, BenchRow.Role.PASSTHROUGH),
                new ScaleScenario.LineTarget("HAProxy -> relays (line)", s.linePort(), ConnectionsLoad.Protocol.LINE,
                        BenchRow.Role.RELAYS));
        return new ScaleScenario(cluster.group(), benchmark, line, RelayConfig.DEFAULT_LINE_KEY, clients, requests,
                connections, lines, rounds, cpu);
    }

    /**
     * The passthrough is the seed article's recipe: HAProxy sends writes to every Redis whose
     * INFO says master. Just after a failover a restarted old master still says so for a moment
     * (the recipe's flaw), so wait until exactly the current master is UP before measuring it.
     */
    private static void awaitPassthroughOnMaster(LocalCluster cluster) throws IOException, InterruptedException {
        String master = cluster.group().awaitHealthy(Duration.ofSeconds(30)).name();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Map<String, String> v = cluster.haproxyRuntime().servers("redis_master");
            long up = v.values().stream().filter(x -> x.startsWith("UP")).count();
            if (up == 1 && v.getOrDefault(master, "").startsWith("UP")) {
                return;
            }
            TimeUnit.MILLISECONDS.sleep(200);
        }
        throw new IOException("HAProxy's passthrough does not point at the master " + master + " alone: "
                + cluster.haproxyRuntime().servers("redis_master"));
    }

    private static int masterPort(LocalCluster cluster) throws IOException {
        return cluster.group().awaitHealthy(Duration.ofSeconds(10)).port();
    }
}
