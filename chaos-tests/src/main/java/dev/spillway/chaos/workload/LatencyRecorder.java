package dev.spillway.chaos.workload;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Ack latencies per phase (steady / fault / recovery) as histograms: three significant digits
 * (a reported percentile is within 0.1% of the exact one), microseconds at the finest, in
 * memory that does not grow with the length of the run.
 *
 * <p>Thread-safe.
 */
public final class LatencyRecorder {

    /** Latencies above an hour are recorded as an hour: no ack waits that long. */
    private static final long HIGHEST_NANOS = TimeUnit.HOURS.toNanos(1);

    private final Map<Producer.Phase, Histogram> nanos = new EnumMap<>(Producer.Phase.class);

    public LatencyRecorder() {
        for (Producer.Phase p : Producer.Phase.values()) {
            nanos.put(p, new Histogram(TimeUnit.MICROSECONDS.toNanos(1), HIGHEST_NANOS, 3));
        }
    }

    synchronized void record(Producer.Phase phase, long latencyNanos) {
        nanos.get(phase).recordValue(Math.max(0, Math.min(latencyNanos, HIGHEST_NANOS)));
    }

    /** p50, p99, p999 and max in milliseconds, and the count, for one phase. */
    public synchronized double[] percentiles(Producer.Phase phase) {
        Histogram h = nanos.get(phase);
        if (h.getTotalCount() == 0) {
            return new double[] {0, 0, 0, 0, 0};
        }
        return new double[] {h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6,
                h.getValueAtPercentile(99.9) / 1e6, h.getMaxValue() / 1e6, h.getTotalCount()};
    }
}
