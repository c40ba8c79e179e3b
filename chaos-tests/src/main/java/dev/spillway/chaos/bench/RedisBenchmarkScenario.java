package dev.spillway.chaos.bench;

import dev.spillway.chaos.topology.SentinelGroup;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code redis-benchmark -t rpush -d 100} against each target, unpipelined and with {@code -P 32},
 * in alternating rounds (the best of each target kept, with the CPU time of that same run),
 * after a warm-up of every target: a freshly started relay is still being compiled by the JIT.
 */
public final class RedisBenchmarkScenario {

    private static final Pattern RPS = Pattern.compile("RPUSH: ([\\d.]+) requests per second, p50=([\\d.]+) msec");
    private static final String UNPIPELINED = "50 clients";

    /** A port to benchmark and its part in the ratios. */
    public record Target(String name, int port, BenchRow.Role role) {}

    private record Mode(String args, String label) {}

    /** One run: requests per second, p50 ms, and the CPU time it cost. */
    private record Run(double perSecond, double p50, CpuUse cpu) {}

    /** The matrix of the default bench: 50 clients, unpipelined and {@code -P 32}. */
    public static final List<String> DEFAULT_MODES = List.of("-c 50", "-c 50 -P 32");

    private final SentinelGroup group;
    private final List<Target> targets;
    private final List<Mode> modes;
    private final int requests;
    private final int rounds;
    private final CpuAccounting cpu;

    /**
     * @param group whose master's {@code mylist} (redis-benchmark's key) is emptied after each run
     * @param requests per unpipelined run; pipelined runs make five times as many
     * @param cpu accounts each measured run, redis-benchmark as the load generator
     */
    public RedisBenchmarkScenario(SentinelGroup group, List<Target> targets, int requests, int rounds,
            CpuAccounting cpu) {
        this(group, targets, requests, rounds, cpu, DEFAULT_MODES);
    }

    /**
     * @param modes redis-benchmark's options of each test, {@code -c <clients>} and optionally
     *     {@code -P <depth>}: "-c 200" is the test "200 clients", "-c 50 -P 32" "50 clients, -P 32"
     */
    public RedisBenchmarkScenario(SentinelGroup group, List<Target> targets, int requests, int rounds,
            CpuAccounting cpu, List<String> modes) {
        this.modes = modes.stream().map(m -> new Mode(m, label(m))).toList();
        this.group = group;
        this.cpu = cpu;
        this.targets = List.copyOf(targets);
        this.requests = requests;
        this.rounds = rounds;
    }

    public List<BenchRow> run() throws IOException, InterruptedException {
        for (Target t : targets) {
            // a relay's hot paths take hundreds of thousands of messages to be compiled on two shared
            // cores (measured: through HAProxy -> 3 relays, the first 400,000 ran at 12-25k msg/s,
            // the rest at 26-27k); Redis and HAProxy are native
            boolean relay = t.role() == BenchRow.Role.RELAYS || t.role() == BenchRow.Role.COMPARED;
            redisBenchmark(t.port(), "-c 50", relay ? requests * 6 : requests / 2);
        }
        emptyList();
        List<BenchRow> rows = new ArrayList<>();
        for (Mode mode : modes) {
            Map<Target, Run> best = new LinkedHashMap<>();
            for (int round = 0; round < rounds; round++) {
                for (Target t : targets) {
                    int n = mode.args().contains("-P") ? requests * 5 : requests;
                    CpuAccounting.Sample before = cpu.start();
                    double[] r = redisBenchmark(t.port(), mode.args(), n);
                    Run run = new Run(r[0], r[1], cpu.stop(before, n, CpuAccounting.LoadGenerator.CHILD,
                            "redis-benchmark"));
                    best.merge(t, run, (a, b) -> a.perSecond() >= b.perSecond() ? a : b);
                    emptyList();
                    System.out.printf("  redis-benchmark %-18s %-30s %10.0f req/s  p50 %.3f ms  CPU %.1f µs/msg%n",
                            mode.label(), t.name(), r[0], r[1], run.cpu().totalMicrosPerMessage());
                }
            }
            best.forEach((t, r) -> rows.add(new BenchRow("redis-benchmark rpush -d 100, " + mode.label(), t.name(),
                    r.perSecond(), r.p50(), Double.NaN, Double.NaN, "", t.role(), r.cpu())));
        }
        return rows;
    }

    /** "-c 200 -P 32" is "200 clients, -P 32". */
    static String label(String args) {
        Matcher m = Pattern.compile("-c (\\d+)(?: -P (\\d+))?").matcher(args);
        if (!m.matches()) {
            throw new IllegalArgumentException("redis-benchmark options must be -c N [-P N]: " + args);
        }
        return m.group(1) + " clients" + (m.group(2) == null ? "" : ", -P " + m.group(2));
    }

    /** The highest unpipelined rate through the relays in {@code rows}, if measured. */
    public static OptionalDouble peakThroughRelays(List<BenchRow> rows) {
        return rows.stream().filter(r -> r.test().endsWith(", " + UNPIPELINED) && r.role() == BenchRow.Role.RELAYS)
                .mapToDouble(BenchRow::perSecond).max();
    }

    private void emptyList() throws IOException {
        group.awaitHealthy(Duration.ofSeconds(10)).cli("DEL", "mylist");
    }

    /** {@code [requests/s, p50 ms]} of one redis-benchmark run, waited for (and so reaped) before it returns. */
    private static double[] redisBenchmark(int port, String mode, int n) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("redis-benchmark", "-h", "127.0.0.1", "-p", String.valueOf(port),
                "-t", "rpush", "-d", "100", "-n", String.valueOf(n), "-q"));
        cmd.addAll(List.of(mode.split(" ")));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("redis-benchmark did not finish in 600 s: " + cmd);
        }
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
}
