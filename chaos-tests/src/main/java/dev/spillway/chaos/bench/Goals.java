package dev.spillway.chaos.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The performance goals of the relay tier (docs/benchmarks.md) read off one bench run's rows:
 * each goal's figure, and whether the run met it. A goal whose rows the run did not measure (a
 * {@code --scenario} that leaves them out) says so instead of guessing.
 *
 * <p>Stateless.
 */
public final class Goals {

    static final String UNPIPELINED = "redis-benchmark rpush -d 100, 50 clients";
    static final String PIPELINED = "redis-benchmark rpush -d 100, 50 clients, -P 32";
    static final String SCALE = "redis-benchmark rpush -d 100, 200 clients";
    static final String RELAYS = "HAProxy -> relays";
    static final String PASSTHROUGH = "HAProxy passthrough -> master";
    static final String DIRECT = "master (direct)";
    static final String ONE_RELAY = "relay-1 (direct)";

    /**
     * One goal.
     *
     * @param met null when the run did not measure it
     */
    public record Goal(String goal, String figure, Boolean met) {}

    private Goals() {}

    public static List<Goal> of(List<BenchRow> rows) {
        List<Goal> goals = new ArrayList<>();
        goals.add(ratio(rows, "HAProxy -> 3 relays >= 0.8x the passthrough, 50 unpipelined clients", UNPIPELINED,
                RELAYS, PASSTHROUGH, 0.8));
        goals.add(ratio(rows, "HAProxy -> 3 relays >= 1.0x the passthrough, -P 32", PIPELINED, RELAYS, PASSTHROUGH, 1.0));
        goals.add(ratio(rows, "HAProxy -> 3 relays >= 1.0x the passthrough, redis-cli --pipe",
                t -> t.startsWith("redis-cli --pipe"), RELAYS, PASSTHROUGH, 1.0));
        goals.add(cpuAtMost(rows, "the 3 relays' CPU <= 15 µs per message together, 50 clients", UNPIPELINED, RELAYS,
                "relay", 15));
        goals.add(cpuAtMost(rows, "one relay's CPU <= 10 µs per message, 50 clients", UNPIPELINED, ONE_RELAY,
                "relay", 10));
        goals.add(ratio(rows, "one relay >= 0.9x the master written directly, 50 clients", UNPIPELINED, ONE_RELAY,
                DIRECT, 0.9));
        goals.add(cpuRatio(rows, "master's CPU per message through the relays <= 0.6x direct, 50 clients",
                UNPIPELINED, "master", 0.6));
        goals.add(cpuRatio(rows, "master's CPU per message through the relays <= 0.35x direct, 200 clients", SCALE,
                "master", 0.35));
        goals.add(cpuRatio(rows, "replicas' CPU per message through the relays <= 0.6x direct, 50 clients",
                UNPIPELINED, "replica", 0.6));
        goals.add(cpuRatio(rows, "replicas' CPU per message through the relays <= 0.35x direct, 200 clients", SCALE,
                "replica", 0.35));
        Optional<BenchRow> acked = rows.stream()
                .filter(r -> r.test().contains("(half the peak)") && r.target().equals(RELAYS)).findFirst();
        goals.add(acked.map(r -> new Goal("ack p99 <= 2 ms through the relays at half the peak",
                        String.format("%.2f ms", r.p99()), r.p99() <= 2))
                .orElse(unmeasured("ack p99 <= 2 ms through the relays at half the peak")));
        goals.add(acked.map(r -> new Goal("ack p999 <= 5 ms through the relays at half the peak",
                        String.format("%.2f ms", r.p999()), r.p999() <= 5))
                .orElse(unmeasured("ack p999 <= 5 ms through the relays at half the peak")));
        return goals;
    }

    public static void print(List<Goal> goals, PrintStream out) {
        out.println();
        out.println("Goals (docs/benchmarks.md), from this run:");
        for (Goal g : goals) {
            out.printf("  %-4s %-78s %s%n", g.met() == null ? "--" : g.met() ? "met" : "NOT", g.goal(), g.figure());
        }
    }

    private static Goal unmeasured(String goal) {
        return new Goal(goal, "not measured in this run", null);
    }

    private static Optional<BenchRow> row(List<BenchRow> rows, Predicate<String> test, String target) {
        return rows.stream().filter(r -> test.test(r.test()) && r.target().equals(target)).findFirst();
    }

    private static Goal ratio(List<BenchRow> rows, String goal, String test, String target, String base, double min) {
        return ratio(rows, goal, test::equals, target, base, min);
    }

    private static Goal ratio(List<BenchRow> rows, String goal, Predicate<String> test, String target, String base,
            double min) {
        Optional<BenchRow> t = row(rows, test, target);
        Optional<BenchRow> b = row(rows, test, base);
        if (t.isEmpty() || b.isEmpty()) {
            return unmeasured(goal);
        }
        double r = t.get().perSecond() / b.get().perSecond();
        return new Goal(goal, String.format("%.2fx (%.0f vs %.0f msg/s)", r, t.get().perSecond(),
                b.get().perSecond()), r >= min);
    }

    private static double cpu(BenchRow r, String role) {
        return r.cpu().processes().stream().filter(p -> p.role().equals(role))
                .mapToDouble(CpuUse.Process::microsPerMessage).sum();
    }

    private static Goal cpuAtMost(List<BenchRow> rows, String goal, String test, String target, String role,
            double max) {
        Optional<BenchRow> t = row(rows, test::equals, target).filter(r -> r.cpu() != null);
        if (t.isEmpty()) {
            return unmeasured(goal);
        }
        double us = cpu(t.get(), role);
        return new Goal(goal, String.format("%.1f µs", us), us <= max);
    }

    private static Goal cpuRatio(List<BenchRow> rows, String goal, String test, String role, double max) {
        Optional<BenchRow> relays = row(rows, test::equals, RELAYS).filter(r -> r.cpu() != null);
        Optional<BenchRow> direct = row(rows, test::equals, DIRECT).filter(r -> r.cpu() != null);
        if (relays.isEmpty() || direct.isEmpty()) {
            return unmeasured(goal);
        }
        double through = cpu(relays.get(), role);
        double alone = cpu(direct.get(), role);
        double r = through / alone;
        return new Goal(goal, String.format("%.2fx (%.1f vs %.1f µs)", r, through, alone), r <= max);
    }
}
