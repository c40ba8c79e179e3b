package dev.spillway.chaos.bench;

import dev.spillway.chaos.topology.SentinelGroup;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Many producers at once, each target of a test measured in the same run, in alternating rounds
 * (the best round of each kept, with its CPU time):
 *
 * <ul>
 *   <li>{@code redis-benchmark -t rpush -d 100 -c <clients>} (200 by default), unpipelined;
 *   <li>the seed's TCP use case: {@code connections} small producers (1,000 by default) on the
 *       line protocol, each sending a 100-byte line and waiting for its {@code OK} before the next,
 *       through HAProxy to the relays — against the same load as {@code RPUSH} straight to the
 *       master and through the HAProxy passthrough (one {@code RPUSH key line} per message,
 *       waiting for its reply), which is what those producers would send without the relay.
 * </ul>
 *
 * The line test's load generator is this JVM (one selector thread for every connection); its
 * connections are opened before the measured interval. Each run's list must hold exactly the
 * messages acknowledged in it (checked on the master), and is emptied after the run.
 */
public final class ScaleScenario {

    /** A target of the line test: where to connect, in which framing, and its part in the ratios. */
    public record LineTarget(String name, int port, ConnectionsLoad.Protocol protocol, BenchRow.Role role) {}

    /** How long one line run may take once its connections are open. */
    static final Duration RUN_LIMIT = Duration.ofSeconds(120);

    private final SentinelGroup group;
    private final List<RedisBenchmarkScenario.Target> benchmarkTargets;
    private final List<LineTarget> lineTargets;
    private final String lineKey;
    private final int clients;
    private final int requests;
    private final int connections;
    private final int linesPerConnection;
    private final int rounds;
    private final CpuAccounting cpu;

    /**
     * @param benchmarkTargets the redis-benchmark test's targets; empty leaves that test out
     * @param lineTargets the line test's targets; empty leaves it out
     * @param lineKey the list the relays' line listener writes to, and so the RPUSH targets' list
     * @param clients redis-benchmark's {@code -c}
     * @param requests per redis-benchmark run
     * @param connections producers of the line test, one connection each
     * @param linesPerConnection messages each of them sends, one at a time
     */
    public ScaleScenario(SentinelGroup group, List<RedisBenchmarkScenario.Target> benchmarkTargets,
            List<LineTarget> lineTargets, String lineKey, int clients, int requests, int connections,
            int linesPerConnection, int rounds, CpuAccounting cpu) {
        this.group = group;
        this.benchmarkTargets = List.copyOf(benchmarkTargets);
        this.lineTargets = List.copyOf(lineTargets);
        this.lineKey = lineKey;
        this.clients = clients;
        this.requests = requests;
        this.connections = connections;
        this.linesPerConnection = linesPerConnection;
        this.rounds = rounds;
        this.cpu = cpu;
    }

    public List<BenchRow> run() throws IOException, InterruptedException {
        List<BenchRow> rows = new ArrayList<>();
        if (!benchmarkTargets.isEmpty()) {
            rows.addAll(new RedisBenchmarkScenario(group, benchmarkTargets, requests, rounds, cpu,
                    List.of("-c " + clients)).run());
        }
        if (!lineTargets.isEmpty()) {
            rows.addAll(lines());
        }
        return rows;
    }

    /** The line test's name in the table. */
    public String lineTest() {
        return "line, " + connections + " connections, 100-byte line, OK awaited, " + linesPerConnection + " each";
    }

    private List<BenchRow> lines() throws IOException {
        for (LineTarget t : lineTargets) { // warm-up: JIT, and HAProxy's and the relays' connection paths
            lineRun(t, Math.min(2, linesPerConnection));
        }
        Map<LineTarget, Measured> best = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (LineTarget t : lineTargets) {
                Measured m = lineRun(t, linesPerConnection);
                System.out.printf("  %-58s %-36s %9.0f msg/s  p50 %.2f  p99 %.2f ms  CPU %.1f µs/msg%s%n",
                        lineTest(), t.name(), m.result().perSecond(), m.result().p50(), m.result().p99(),
                        m.cpu().totalMicrosPerMessage(), m.note().isEmpty() ? "" : "  " + m.note());
                best.merge(t, m, (a, b) -> a.result().perSecond() >= b.result().perSecond() ? a : b);
            }
        }
        List<BenchRow> rows = new ArrayList<>();
        best.forEach((t, m) -> rows.add(new BenchRow(lineTest(), t.name(), m.result().perSecond(), m.result().p50(),
                m.result().p99(), m.result().p999(), m.note(), t.role(), m.cpu())));
        return rows;
    }

    private record Measured(ConnectionsLoad.Result result, CpuUse cpu, String note) {}

    private Measured lineRun(LineTarget t, int perConnection) throws IOException {
        emptyList();
        CpuAccounting.Sample[] before = new CpuAccounting.Sample[1];
        ConnectionsLoad.Result r = new ConnectionsLoad(t.port(), t.protocol(), lineKey, connections, perConnection,
                RUN_LIMIT).run(() -> before[0] = cpu.start());
        CpuUse use = cpu.stop(before[0], r.acked(), CpuAccounting.LoadGenerator.THIS_JVM, "bench JVM");
        long inList = Long.parseLong(group.awaitHealthy(Duration.ofSeconds(10)).cli("LLEN", lineKey));
        emptyList();
        if (inList != r.acked()) {
            throw new IOException(t.name() + ": " + r.acked() + " messages acknowledged, but " + lineKey
                    + " holds " + inList);
        }
        List<String> notes = new ArrayList<>();
        if (r.errors() > 0) {
            notes.add(r.errors() + " refused (" + r.firstError() + ")");
        }
        if (r.unfinished() > 0) {
            notes.add(r.unfinished() + " connections unfinished"
                    + (r.firstError().isEmpty() ? " at the " + RUN_LIMIT.toSeconds() + " s limit" : ": "
                            + r.firstError()));
        }
        return new Measured(r, use, String.join("; ", notes));
    }

    private void emptyList() throws IOException {
        group.awaitHealthy(Duration.ofSeconds(10)).cli("DEL", lineKey);
    }
}
