package dev.spillway.chaos.workload;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Ack latencies per phase (steady / fault / recovery), kept whole for exact percentiles. Thread-safe. */
public final class LatencyRecorder {

    private final Map<Producer.Phase, List<Long>> nanos = new EnumMap<>(Producer.Phase.class);

    public LatencyRecorder() {
        for (Producer.Phase p : Producer.Phase.values()) {
            nanos.put(p, new ArrayList<>());
        }
    }

    synchronized void record(Producer.Phase phase, long latencyNanos) {
        nanos.get(phase).add(latencyNanos);
    }

    /** p50, p99, p999 and max in milliseconds, and the count, for one phase. */
    public synchronized double[] percentiles(Producer.Phase phase) {
        List<Long> l = new ArrayList<>(nanos.get(phase));
        if (l.isEmpty()) {
            return new double[] {0, 0, 0, 0, 0};
        }
        l.sort(null);
        return new double[] {at(l, 0.50), at(l, 0.99), at(l, 0.999), l.get(l.size() - 1) / 1e6, l.size()};
    }

    private static double at(List<Long> sorted, double q) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(q * sorted.size()))) / 1e6;
    }
}
