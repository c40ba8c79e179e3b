package dev.spillway.chaos.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each goal's figure read off a bench run's rows, and met only where the figure says so. */
class GoalsTest {

    private static CpuUse cpu(double master, double replica, double relays) {
        return CpuUse.of(100_000, 2, 100, List.of(new CpuUse.Process("redis-1", "master", 0, master, ""),
                new CpuUse.Process("redis-2", "replica", 0, replica / 2, ""),
                new CpuUse.Process("redis-3", "replica", 0, replica / 2, ""),
                new CpuUse.Process("relay-1", "relay", 0, relays / 3, ""),
                new CpuUse.Process("relay-2", "relay", 0, relays / 3, ""),
                new CpuUse.Process("relay-3", "relay", 0, relays / 3, "")));
    }

    private static BenchRow row(String test, String target, double perSecond, CpuUse cpu) {
        return new BenchRow(test, target, perSecond, 1, Double.NaN, Double.NaN, "", BenchRow.Role.NONE, cpu);
    }

    private static Goals.Goal goal(List<Goals.Goal> goals, String starting) {
        return goals.stream().filter(g -> g.goal().startsWith(starting)).findFirst().orElseThrow();
    }

    @Test
    void figuresComeFromTheRowsOfOneRun() {
        List<BenchRow> rows = new ArrayList<>();
        rows.add(row(Goals.UNPIPELINED, Goals.DIRECT, 60_000, cpu(10, 5, 1)));
        rows.add(row(Goals.UNPIPELINED, Goals.RELAYS, 36_000, cpu(5.5, 4, 14.9)));
        rows.add(row(Goals.UNPIPELINED, Goals.ONE_RELAY, 50_000, cpu(4, 3, 10.5)));
        rows.add(row(Goals.UNPIPELINED, Goals.PASSTHROUGH, 40_000, cpu(10, 5, 1)));
        rows.add(new BenchRow("offered 9000 msg/s (half the peak), 20 producers, every ack checked", Goals.RELAYS,
                9_000, 0.5, 2.5, 4.0, "", BenchRow.Role.NONE, cpu(20, 10, 30)));
        List<Goals.Goal> goals = Goals.of(rows);

        assertThat(goal(goals, "HAProxy -> 3 relays >= 0.8x the passthrough, 50")).satisfies(g -> {
            assertThat(g.met()).isTrue();
            assertThat(g.figure()).startsWith("0.90x (36000 vs 40000 msg/s)");
        });
        assertThat(goal(goals, "the 3 relays' CPU").met()).as("14.9 µs").isTrue();
        assertThat(goal(goals, "one relay's CPU").met()).as("10.5 µs").isFalse();
        assertThat(goal(goals, "one relay >= 0.9x").met()).as("50,000 of 60,000").isFalse();
        assertThat(goal(goals, "master's CPU per message through the relays <= 0.6x direct, 50")).satisfies(g -> {
            assertThat(g.met()).as("0.55x").isTrue();
            assertThat(g.figure()).startsWith("0.55x (5.5 vs 10.0 µs)");
        });
        assertThat(goal(goals, "replicas' CPU per message through the relays <= 0.6x direct, 50").met())
                .as("0.8x").isFalse();
        assertThat(goal(goals, "ack p99").met()).as("2.5 ms").isFalse();
        assertThat(goal(goals, "ack p999").met()).as("4.0 ms").isTrue();
        assertThat(goal(goals, "HAProxy -> 3 relays >= 1.0x the passthrough, -P 32").met())
                .as("no -P 32 rows in this run").isNull();
        assertThat(goal(goals, "master's CPU per message through the relays <= 0.35x direct, 200").figure())
                .isEqualTo("not measured in this run");
    }
}
