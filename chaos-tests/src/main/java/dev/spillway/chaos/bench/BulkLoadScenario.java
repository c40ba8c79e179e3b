package dev.spillway.chaos.bench;

import dev.spillway.chaos.topology.SentinelGroup;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bulk loading as Redis users do it: {@code redis-cli --pipe} of a file of {@code RPUSH}
 * commands (100-byte values) against each target, in alternating rounds, the fastest of each
 * kept with the CPU time of that same run. One connection writes as fast as it can and reads the
 * replies as they come: a relay must fill batches from it, not wait on them.
 *
 * <p>A run counts only if redis-cli reports every reply and no error, and the list on the master
 * then holds exactly the messages sent.
 */
public final class BulkLoadScenario {

    private static final Pattern SUMMARY = Pattern.compile("errors: (\\d+), replies: (\\d+)");

    /** The list the bulk loads fill (emptied before and after each run). */
    static final String KEY = "spillway:bench:bulk";

    private final SentinelGroup group;
    private final List<RedisBenchmarkScenario.Target> targets;
    private final int messages;
    private final int rounds;
    private final CpuAccounting cpu;

    /**
     * @param messages the {@code RPUSH} commands of the file, one value each
     * @param cpu accounts each run, redis-cli as the load generator
     */
    public BulkLoadScenario(SentinelGroup group, List<RedisBenchmarkScenario.Target> targets, int messages,
            int rounds, CpuAccounting cpu) {
        this.group = group;
        this.targets = List.copyOf(targets);
        this.messages = messages;
        this.rounds = rounds;
        this.cpu = cpu;
    }

    /** The test column of the rows. */
    public String test() {
        return String.format("redis-cli --pipe, %,d RPUSH -d 100", messages);
    }

    public List<BenchRow> run() throws IOException, InterruptedException {
        Path file = Files.createTempFile("spillway-bulk", ".resp");
        try {
            write(file, messages);
            for (RedisBenchmarkScenario.Target t : targets) { // warm-up: JIT of a fresh relay
                pipe(t.port(), file);
                emptyList();
            }
            Map<RedisBenchmarkScenario.Target, double[]> best = new LinkedHashMap<>();
            Map<RedisBenchmarkScenario.Target, CpuUse> cpuOfBest = new LinkedHashMap<>();
            for (int round = 0; round < rounds; round++) {
                for (RedisBenchmarkScenario.Target t : targets) {
                    CpuAccounting.Sample before = cpu.start();
                    long start = System.nanoTime();
                    pipe(t.port(), file);
                    double seconds = (System.nanoTime() - start) / 1e9;
                    CpuUse use = cpu.stop(before, messages, CpuAccounting.LoadGenerator.CHILD, "redis-cli");
                    String length = group.awaitHealthy(Duration.ofSeconds(10)).cli("LLEN", KEY);
                    if (!length.equals(String.valueOf(messages))) {
                        throw new IOException("after a bulk load through " + t.name() + " the list holds " + length
                                + " messages, not " + messages);
                    }
                    emptyList();
                    double perSecond = messages / seconds;
                    System.out.printf("  redis-cli --pipe %-30s %10.0f msg/s  %.2f s  CPU %.1f µs/msg%n", t.name(),
                            perSecond, seconds, use.totalMicrosPerMessage());
                    if (!best.containsKey(t) || best.get(t)[0] < perSecond) {
                        best.put(t, new double[] {perSecond, seconds});
                        cpuOfBest.put(t, use);
                    }
                }
            }
            List<BenchRow> rows = new ArrayList<>();
            best.forEach((t, r) -> rows.add(new BenchRow(test(), t.name(), r[0], Double.NaN, Double.NaN, Double.NaN,
                    String.format("%.2f s", r[1]), t.role(), cpuOfBest.get(t))));
            return rows;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** {@code messages} {@code RPUSH KEY <100 bytes>} commands in RESP, as redis-cli --pipe reads them. */
    static void write(Path file, int messages) throws IOException {
        byte[] value = "v".repeat(100).getBytes(StandardCharsets.US_ASCII);
        byte[] head = ("*3\r\n$5\r\nRPUSH\r\n$" + KEY.length() + "\r\n" + KEY + "\r\n$" + value.length + "\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 1 << 16)) {
            for (int i = 0; i < messages; i++) {
                out.write(head);
                out.write(value);
                out.write('\r');
                out.write('\n');
            }
        }
    }

    /** One {@code redis-cli --pipe} run, waited for (and so reaped); fails unless every reply came and none is an error. */
    private void pipe(int port, Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("redis-cli", "-h", "127.0.0.1", "-p", String.valueOf(port), "--pipe")
                .redirectInput(file.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("redis-cli --pipe did not finish in 300 s against port " + port);
        }
        Matcher m = SUMMARY.matcher(out);
        if (p.exitValue() != 0 || !m.find() || !m.group(1).equals("0")
                || Long.parseLong(m.group(2)) != messages) {
            throw new IOException("redis-cli --pipe against port " + port + " did not get " + messages
                    + " replies without error: " + out.strip());
        }
    }

    private void emptyList() throws IOException {
        group.awaitHealthy(Duration.ofSeconds(10)).cli("DEL", KEY);
    }
}
