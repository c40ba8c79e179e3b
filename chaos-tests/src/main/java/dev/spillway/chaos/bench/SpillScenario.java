package dev.spillway.chaos.bench;

import dev.spillway.relay.bench.SpillBench;
import java.util.ArrayList;
import java.util.List;

/**
 * The spill log alone, through the relay's own {@link SpillBench}: fsync'd append and replay
 * rates at 64 appenders and, when {@code backlog} is positive, a backlog of that many messages
 * appended and replayed with the heap watched. Each row's CPU time is this JVM's (the spill log
 * runs in it) over appending and replaying its messages.
 */
public final class SpillScenario {

    private final long backlog;

    public SpillScenario(long backlog) {
        this.backlog = backlog;
    }

    public List<BenchRow> run() {
        CpuAccounting cpu = CpuAccounting.thisJvm();
        List<BenchRow> rows = new ArrayList<>();
        CpuAccounting.Sample before = cpu.start();
        SpillBench.Result sr = spillBench(new int[] {64}, 0).runs().get(0);
        rows.add(BenchRow.of("spill log, 100-byte messages, fsync before ack", sr.appenders() + " appenders",
                sr.ackedPerSecond(), Double.NaN, Double.NaN, Double.NaN,
                String.format("%.1f msgs/fsync, replay %.0f msg/s", sr.messagesPerFsync(), sr.replayPerSecond()))
                .withCpu(cpu.stop(before, sr.acked(), CpuAccounting.LoadGenerator.THIS_JVM, "bench JVM")));
        if (backlog <= 0) {
            return rows;
        }
        before = cpu.start();
        SpillBench.BacklogResult b = spillBench(new int[0], backlog).backlog();
        if (b != null) {
            rows.add(BenchRow.of("spill backlog of " + b.messages() + " messages (8 appenders x 256 in flight)",
                    "append, then replay", b.appendPerSecond(), Double.NaN, Double.NaN, Double.NaN,
                    String.format("replay %.0f msg/s; %d MiB on disk; heap after GC %d MiB before, max %d, after %d",
                            b.replayPerSecond(), b.diskBytes() >> 20, b.heapBefore() >> 20, b.heapMax() >> 20,
                            b.heapAfter() >> 20))
                    .withCpu(cpu.stop(before, b.messages(), CpuAccounting.LoadGenerator.THIS_JVM, "bench JVM")));
        }
        return rows;
    }

    private static SpillBench.Results spillBench(int[] appenders, long backlog) {
        try {
            return SpillBench.run(new SpillBench.Options(null, appenders, 5, 100, backlog), System.out);
        } catch (Exception e) {
            throw new IllegalStateException("spill bench failed: " + e.getMessage(), e);
        }
    }
}
