package dev.spillway.relay.metrics;

import com.codahale.metrics.Reservoir;
import com.codahale.metrics.Snapshot;
import com.codahale.metrics.LockFreeExponentiallyDecayingReservoir;
import com.codahale.metrics.Timer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * A Dropwizard {@link Timer} that also counts every duration into fixed buckets since start, so
 * the Prometheus view can expose it as a histogram: quantiles of a Dropwizard reservoir cannot be
 * added up across relays, bucket counts can. JSON, JMX and Graphite see an ordinary timer.
 *
 * <p>Every update path of {@link Timer} ends in {@link #update(long, TimeUnit)} or
 * {@link #update(Duration)} except {@code time(Callable)}, {@code time(Runnable)} and
 * {@code timeSupplier}, which are refused so no duration escapes the buckets.
 *
 * <p>Thread-safe.
 */
public final class BucketTimer extends Timer {

    /** Upper bounds in seconds for request latencies, from 100 µs to 10 s. */
    public static final double[] LATENCY_BOUNDS = {
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    private final double[] bounds;
    private final LongAdder[] counts; // one more than bounds: the last is +Inf
    private final DoubleAdder sumSeconds = new DoubleAdder();

    public BucketTimer(Reservoir reservoir, double[] upperBoundsSeconds) {
        super(reservoir);
        for (int i = 1; i < upperBoundsSeconds.length; i++) {
            if (!(upperBoundsSeconds[i] > upperBoundsSeconds[i - 1])) {
                throw new IllegalArgumentException("bucket bounds must increase: " + Arrays.toString(upperBoundsSeconds));
            }
        }
        this.bounds = upperBoundsSeconds.clone();
        this.counts = new LongAdder[bounds.length + 1];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
    }

    /**
     * Latency buckets, and for the Dropwizard quantiles (JSON, JMX, Graphite, the dashboard) a
     * reservoir of at most 1,028 samples weighted to the last five minutes: bounded whatever the
     * rate — a reservoir of every sample of a time window holds millions at full load.
     */
    public static BucketTimer latency() {
        return new BucketTimer(LockFreeExponentiallyDecayingReservoir.builder().build(), LATENCY_BOUNDS);
    }

    /**
     * As {@link #latency()}, for a duration of every request: the buckets, the count and the sum
     * take every one, the quantiles' reservoir one in {@link #REQUEST_SAMPLE_EVERY}, drawn at
     * random. The reservoir is a sample already (1,028 values); its update — a clock read, an
     * exponential and a skip-list insert — was a tenth of the relay's CPU for pipelining
     * producers, where the buckets cost a binary search and two adders.
     */
    public static BucketTimer requestLatency() {
        return new BucketTimer(new Sampled(LockFreeExponentiallyDecayingReservoir.builder().build(),
                REQUEST_SAMPLE_EVERY), LATENCY_BOUNDS);
    }

    /** One in how many request latencies {@link #requestLatency()} passes to its reservoir. */
    public static final int REQUEST_SAMPLE_EVERY = 8;

    /** A reservoir that takes one update in {@code every}, at random; thread-safe as its inner one. */
    static final class Sampled implements Reservoir {
        private final Reservoir inner;
        private final int every;

        Sampled(Reservoir inner, int every) {
            this.inner = inner;
            this.every = every;
        }

        @Override
        public int size() {
            return inner.size();
        }

        @Override
        public void update(long value) {
            if (ThreadLocalRandom.current().nextInt(every) == 0) {
                inner.update(value);
            }
        }

        @Override
        public Snapshot getSnapshot() {
            return inner.getSnapshot();
        }
    }

    @Override
    public void update(long duration, TimeUnit unit) {
        if (duration < 0) {
            return; // as Timer does
        }
        double seconds = unit.toNanos(duration) / 1e9;
        int i = Arrays.binarySearch(bounds, seconds);
        counts[i >= 0 ? i : -i - 1].increment();
        sumSeconds.add(seconds);
        super.update(duration, unit);
    }

    @Override
    public void update(Duration duration) {
        update(duration.toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    public <T> T time(java.util.concurrent.Callable<T> event) {
        throw new UnsupportedOperationException("use time() or update()");
    }

    @Override
    public <T> T timeSupplier(java.util.function.Supplier<T> event) {
        throw new UnsupportedOperationException("use time() or update()");
    }

    @Override
    public void time(Runnable event) {
        throw new UnsupportedOperationException("use time() or update()");
    }

    /** The upper bounds in seconds, without +Inf. */
    public double[] upperBounds() {
        return bounds.clone();
    }

    /**
     * Counts per bucket (not cumulative), the last for durations above every bound; read one
     * bucket after another, so a scrape racing updates may be off by the updates in flight.
     */
    public long[] bucketCounts() {
        long[] out = new long[counts.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = counts[i].sum();
        }
        return out;
    }

    /** Sum of every duration since start, in seconds. */
    public double sumSeconds() {
        return sumSeconds.sum();
    }
}
