package dev.spillway.chaos.bench;

import dev.spillway.relay.bench.SpillBench;
import java.util.ArrayList;
import java.util.List;

/**
 * The spill log alone, through the relay's own {@link SpillBench}: fsync'd append and replay
 * rates at 64 appenders and, when {@code backlog} is positive, a backlog of that many messages
 * appended and replayed with the heap watched.
 */
public final class SpillScenario {

    private final long backlog;

    public SpillScenario(long backlog) {
        this.backlog = backlog;
    }

    public List<BenchRow> run() {
        SpillBench.Results spill;
        try {
            spill = SpillBench.run(new SpillBench.Options(null, new int[] {64}, 5, 100, backlog), System.out);
        } catch (Exception e) {
            throw new IllegalStateException("spill bench failed: " + e.getMessage(), e);
        }
        List<BenchRow> rows = new ArrayList<>();
        for (SpillBench.Result sr : spill.runs()) {
            rows.add(BenchRow.of("spill log, 100-byte messages, fsync before ack", sr.appenders() + " appenders",
                    sr.ackedPerSecond(), Double.NaN, Double.NaN, Double.NaN,
                    String.format("%.1f msgs/fsync, replay %.0f msg/s", sr.messagesPerFsync(), sr.replayPerSecond())));
        }
        SpillBench.BacklogResult b = spill.backlog();
        if (b != null) {
            rows.add(BenchRow.of("spill backlog of " + b.messages() + " messages (8 appenders x 256 in flight)",
                    "append, then replay", b.appendPerSecond(), Double.NaN, Double.NaN, Double.NaN,
                    String.format("replay %.0f msg/s; %d MiB on disk; heap after GC %d MiB before, max %d, after %d",
                            b.replayPerSecond(), b.diskBytes() >> 20, b.heapBefore() >> 20, b.heapMax() >> 20,
                            b.heapAfter() >> 20)));
        }
        return rows;
    }
}
