package dev.spillway.chaos.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spillway.chaos.run.ChaosReport;
import dev.spillway.chaos.run.ChaosRun;
import dev.spillway.chaos.run.Fault;
import dev.spillway.chaos.run.ProcessTopology;
import dev.spillway.chaos.topology.Checkout;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.chaos.workload.LatencyRecorder;
import dev.spillway.chaos.workload.Producer;
import dev.spillway.chaos.workload.RedissonProducer;
import dev.spillway.chaos.workload.RespProducer;
import dev.spillway.relay.bench.SpillBench;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.redisson.config.SentinelServersConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code bench}: the relay against direct Redis on the local cluster, side by side in one run.
 * Numbers on a shared machine are noisy, so every comparison is made in the same run, targets
 * alternate, and the table reports ratios.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmark the relay against direct Redis in one run; print a table with ratios and write JSON.")
public final class BenchCommand implements Callable<Integer> {

    private static final Pattern RPS = Pattern.compile("RPUSH: ([\\d.]+) requests per second, p50=([\\d.]+) msec");

    @Mixin
    BaseOption base;

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

    record Row(String test, String target, double perSecond, double p50, double p99, double p999, String note) {}

    @Override
    public Integer call() throws Exception {
        LocalCluster cluster = ChaosCommand.attached(base);
        var s = cluster.state();
        awaitPassthroughOnMaster(cluster);
        Node relay1 = cluster.relays().get(0);
        List<Row> rows = new ArrayList<>();
        Map<String, Integer> targets = new LinkedHashMap<>();
        targets.put("master (direct)", masterPort(cluster));
        targets.put("HAProxy -> relays", s.respPort());
        targets.put("relay-1 (direct)", relay1.port());
        targets.put("HAProxy passthrough -> master", s.passthroughPort());

        RssSampler rss = new RssSampler(cluster.relays());
        rss.start();
        // A freshly started relay is still being compiled by the JIT: warm every target first.
        for (int port : targets.values()) {
            redisBenchmark(port, "-c 50", requests / 2);
        }
        cluster.group().awaitHealthy(Duration.ofSeconds(10)).cli("DEL", "mylist");

        for (String[] mode : new String[][] {{"-c 50", "50 clients"}, {"-c 50 -P 32", "50 clients, -P 32"}}) {
            Map<String, double[]> best = new LinkedHashMap<>();
            for (int round = 0; round < rounds; round++) {
                for (Map.Entry<String, Integer> t : targets.entrySet()) {
                    int n = mode[0].contains("-P") ? requests * 5 : requests;
                    double[] r = redisBenchmark(t.getValue(), mode[0], n);
                    best.merge(t.getKey(), r, (a, b) -> a[0] >= b[0] ? a : b);
                    cluster.group().awaitHealthy(Duration.ofSeconds(10)).cli("DEL", "mylist");
                    System.out.printf("  redis-benchmark %-18s %-30s %10.0f req/s  p50 %.3f ms%n", mode[1], t.getKey(),
                            r[0], r[1]);
                }
            }
            best.forEach((target, r) -> rows.add(new Row("redis-benchmark rpush -d 100, " + mode[1], target, r[0], r[1],
                    Double.NaN, Double.NaN, "")));
        }

        int offered = rate > 0 ? rate : (int) Math.max(100, rows.stream()
                .filter(r -> r.test().endsWith(", 50 clients") && r.target().equals("HAProxy -> relays"))
                .mapToDouble(Row::perSecond).max().orElse(4000) / 2);
        String loadTest = "offered " + offered + " msg/s" + (rate > 0 ? "" : " (half the peak)")
                + ", 20 producers, every ack checked";
        int relayPort = s.respPort();
        row(rows, loadTest, "HAProxy -> relays",
                ackedLoad(offered, seconds, (i, perProducer, latency) -> new RespProducer(i, "127.0.0.1", relayPort,
                        "bench:acked", perProducer, Long.MAX_VALUE, latency)));
        try (Redisson direct = new Redisson(cluster.group().sentinelAddresses())) {
            row(rows, loadTest, "master (direct Redisson, Sentinel)",
                    ackedLoad(offered, seconds, (i, perProducer, latency) -> new RedissonProducer(i, direct.client,
                            "bench:acked", perProducer, Long.MAX_VALUE, latency)));
        }
        int masterPort = masterPort(cluster);
        row(rows, loadTest, "master (direct Jedis)",
                ackedLoad(offered, seconds, (i, perProducer, latency) -> new RespProducer(i, "127.0.0.1", masterPort,
                        "bench:acked", perProducer, Long.MAX_VALUE, latency)));
        rss.stop();
        for (Map.Entry<String, Long> e : rss.peaks().entrySet()) {
            rows.add(new Row("peak RSS during the runs above", e.getKey(), Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, (e.getValue() >> 20) + " MiB"));
            System.out.printf("  peak RSS %s %d MiB%n", e.getKey(), e.getValue() >> 20);
        }

        if (!skipFailover) {
            int rate = failoverRate;
            ChaosRun.Options o = new ChaosRun.Options(List.of(List.of(Fault.KILL_MASTER)), Duration.ofMinutes(2), 1, 4,
                    rate / 12, 1, "data_queue", "bench-" + System.currentTimeMillis() + ":", true);
            ChaosReport r;
            try (ProcessTopology t = new ProcessTopology(cluster, false)) {
                r = new ChaosRun(o).run(t, line -> { });
            }
            double[] fault = r.latencyMs().get("fault");
            System.out.printf("  failover (SIGKILL master) at %d msg/s: errors %d, p99 %.2f ms, drained in %d ms, %s%n",
                    rate, r.producerErrors(), fault[1], r.maxDrainMs(), r.ok() ? "nothing lost" : "CHECK FAILED");
            rows.add(new Row("failover: SIGKILL master at " + (rate / 12 * 12) + " msg/s (RESP, line, HTTP)",
                    "HAProxy -> relays", r.acked() * 1000.0 / r.durationMs(), fault[0], fault[1], fault[2],
                    "producer errors " + r.producerErrors() + ", drained in " + r.maxDrainMs() + " ms, lost "
                            + r.check().lost().size()));
        }

        SpillBench spill = new SpillBench();
        new CommandLine(spill).execute("--appenders", "64", "--seconds", "5", "--backlog", String.valueOf(backlog));
        for (SpillBench.Result sr : spill.results()) {
            rows.add(new Row("spill log, 100-byte messages, fsync before ack", sr.appenders() + " appenders",
                    sr.ackedPerSecond(), Double.NaN, Double.NaN, Double.NaN,
                    String.format("%.1f msgs/fsync, replay %.0f msg/s", sr.messagesPerFsync(), sr.replayPerSecond())));
        }
        SpillBench.BacklogResult b = spill.backlogResult();
        if (b != null) {
            rows.add(new Row("spill backlog of " + b.messages() + " messages (8 appenders x 256 in flight)",
                    "append, then replay", b.appendPerSecond(), Double.NaN, Double.NaN, Double.NaN,
                    String.format("replay %.0f msg/s; %d MiB on disk; heap after GC %d MiB before, max %d, after %d",
                            b.replayPerSecond(), b.diskBytes() >> 20, b.heapBefore() >> 20, b.heapMax() >> 20,
                            b.heapAfter() >> 20)));
        }

        printTable(rows);
        Path file = json.isAbsolute() ? json : Checkout.root().resolve(json);
        Files.createDirectories(file.getParent());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("machine", Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + ", Java " + System.getProperty("java.version"));
        out.put("rows", rows);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), out);
        System.out.println("JSON: " + file);
        return 0;
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

    /** {@code [requests/s, p50 ms]} of one redis-benchmark run. */
    private static double[] redisBenchmark(int port, String mode, int n) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", String.valueOf(port),
                "-t", "rpush", "-d", "100", "-n", String.valueOf(n), "-q"));
        cmd.addAll(List.of(mode.split(" ")));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(600, TimeUnit.SECONDS);
        Matcher m = RPS.matcher(out);
        double[] r = null;
        while (m.find()) {
            r = new double[] {Double.parseDouble(m.group(1)), Double.parseDouble(m.group(2))};
        }
        if (r == null) {
            throw new IOException("redis-benchmark gave no result: " + out);
        }
        return r;
    }

    /** Makes producer {@code id} sending {@code rate} msg/s and recording into {@code latency}. */
    private interface ProducerFactory {
        Producer create(int id, int rate, LatencyRecorder latency);
    }

    private static void row(List<Row> rows, String test, String target, double[] r) {
        System.out.printf("  %s  %-36s acked %8.0f msg/s  p50 %.2f  p99 %.2f  p999 %.2f ms%n", test, target, r[0], r[1],
                r[2], r[3]);
        rows.add(new Row(test, target, r[0], r[1], r[2], r[3], ""));
    }

    /** 20 producers at {@code rate} in all, one message in flight each, every ack checked. */
    private static double[] ackedLoad(int rate, int seconds, ProducerFactory producer) throws InterruptedException {
        LatencyRecorder latency = new LatencyRecorder();
        List<Producer> producers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Producer p = producer.create(i, Math.max(1, rate / 20), latency);
            p.prefix("bench:");
            producers.add(p);
            Thread t = new Thread(p);
            t.start();
            threads.add(t);
        }
        long start = System.nanoTime();
        TimeUnit.SECONDS.sleep(seconds);
        producers.forEach(Producer::stop);
        for (Thread t : threads) {
            t.join(30_000);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        long acked = producers.stream().mapToLong(p -> p.acked().size()).sum();
        double[] q = latency.percentiles(Producer.Phase.STEADY);
        return new double[] {acked / secs, q[0], q[1], q[2]};
    }

    /** A Sentinel-aware Redisson client, as an application writing to Redis directly would use. */
    private static final class Redisson implements AutoCloseable {
        final RedissonClient client;

        Redisson(List<String> sentinels) {
            Config c = new Config();
            SentinelServersConfig s = c.useSentinelServers().setMasterName(SentinelGroup.MASTER_NAME)
                    .setCheckSentinelsList(false);
            sentinels.forEach(a -> s.addSentinelAddress("redis://" + a));
            client = org.redisson.Redisson.create(c);
        }

        @Override
        public void close() {
            client.shutdown();
        }
    }

    /** The highest resident set size of each relay process, sampled every 100 ms from /proc. */
    private static final class RssSampler {
        private final List<Node> relays;
        private final Map<String, Long> peaks = new java.util.concurrent.ConcurrentSkipListMap<>();
        private volatile boolean stop;
        private Thread thread;

        RssSampler(List<Node> relays) {
            this.relays = relays;
        }

        void start() {
            thread = new Thread(() -> {
                while (!stop) {
                    for (Node r : relays) {
                        long rss = rssBytes(r.pid());
                        if (rss > 0) {
                            peaks.merge(r.name(), rss, Math::max);
                        }
                    }
                    try {
                        TimeUnit.MILLISECONDS.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "rss-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            stop = true;
            thread.join(1_000);
        }

        Map<String, Long> peaks() {
            return peaks;
        }

        private static long rssBytes(long pid) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                    }
                }
            } catch (IOException | RuntimeException e) {
                // the process is gone or /proc is unavailable: no sample
            }
            return -1;
        }
    }

    private static void printTable(List<Row> rows) {
        System.out.println();
        System.out.printf("%-62s %-32s %12s %9s %9s %9s  %s%n", "test", "target", "msg/s", "p50 ms", "p99 ms", "p999 ms",
                "note");
        Map<String, Double> directByTest = new LinkedHashMap<>();
        Map<String, Double> passthroughByTest = new LinkedHashMap<>();
        for (Row r : rows) {
            if (!r.test().startsWith("redis-benchmark")) {
                continue; // throughput ratios only where throughput is what is measured
            }
            if (r.target().startsWith("master")) {
                directByTest.put(r.test(), r.perSecond());
            }
            if (r.target().startsWith("HAProxy passthrough")) {
                passthroughByTest.put(r.test(), r.perSecond());
            }
        }
        for (Row r : rows) {
            String note = r.note();
            Double direct = directByTest.get(r.test());
            if (direct != null && !r.target().startsWith("master")) {
                note = String.format("%.2fx direct", r.perSecond() / direct) + (note.isEmpty() ? "" : "; " + note);
            }
            Double pass = passthroughByTest.get(r.test());
            if (pass != null && r.target().startsWith("HAProxy -> relays")) {
                note += String.format("; %.2fx passthrough", r.perSecond() / pass);
            }
            System.out.printf("%-62s %-32s %12s %9s %9s %9s  %s%n", r.test(), r.target(),
                    Double.isNaN(r.perSecond()) ? "" : String.format("%.0f", r.perSecond()), fmt(r.p50()),
                    fmt(r.p99()), fmt(r.p999()), note);
        }
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "" : String.format("%.2f", v);
    }
}
