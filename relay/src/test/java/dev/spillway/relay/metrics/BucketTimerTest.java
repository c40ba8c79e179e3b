package dev.spillway.relay.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BucketTimerTest {

    @Test
    void countsEachDurationOnceIntoItsBucketAndSumsSeconds() {
        BucketTimer t = BucketTimer.latency();
        t.update(50, TimeUnit.MICROSECONDS);   // <= 100 µs
        t.update(100, TimeUnit.MICROSECONDS);  // on a bound: that bucket
        t.update(Duration.ofMillis(3));        // <= 5 ms
        try (var ignored = t.time()) {         // the Context path, a few µs or ms
            Thread.onSpinWait();
        }
        t.update(11, TimeUnit.SECONDS);        // above every bound: +Inf
        t.update(-1, TimeUnit.SECONDS);        // ignored, as Timer does
        long[] c = t.bucketCounts();
        assertThat(c).hasSize(BucketTimer.LATENCY_BOUNDS.length + 1);
        assertThat(c[0]).isGreaterThanOrEqualTo(2);
        assertThat(c[c.length - 1]).isEqualTo(1);
        assertThat(java.util.Arrays.stream(c).sum()).isEqualTo(5).isEqualTo(t.getCount());
        assertThat(t.sumSeconds()).isBetween(11.003, 11.5);
    }

    @Test
    void itsReservoirStaysBoundedWhateverTheRate() {
        BucketTimer t = BucketTimer.latency();
        for (int i = 0; i < 200_000; i++) {
            t.update(i % 5000, TimeUnit.MICROSECONDS);
        }
        assertThat(t.getSnapshot().size()).isLessThanOrEqualTo(1028);
        assertThat(t.getCount()).isEqualTo(200_000);
    }

    @Test
    void pathsThatWouldBypassTheBucketsAreRefused() {
        BucketTimer t = BucketTimer.latency();
        assertThatThrownBy(() -> t.time(() -> 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> t.time(() -> { })).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> t.timeSupplier(() -> 1)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void aRequestTimerCountsEveryDurationAndSamplesTheQuantilesFromAFew() {
        BucketTimer t = BucketTimer.requestLatency();
        for (int i = 0; i < 80_000; i++) {
            t.update(i % 2 == 0 ? 200 : 3_000, java.util.concurrent.TimeUnit.MICROSECONDS);
        }
        org.assertj.core.api.Assertions.assertThat(t.getCount()).as("every update counted").isEqualTo(80_000);
        long[] buckets = t.bucketCounts();
        org.assertj.core.api.Assertions.assertThat(buckets[1]).as("<= 250 µs").isEqualTo(40_000);
        org.assertj.core.api.Assertions.assertThat(buckets[4]).as("<= 2.5 ms .. 5 ms").isZero();
        org.assertj.core.api.Assertions.assertThat(buckets[5]).as("<= 5 ms").isEqualTo(40_000);
        org.assertj.core.api.Assertions.assertThat(t.sumSeconds()).isCloseTo(40_000 * 0.0032,
                org.assertj.core.api.Assertions.within(1e-6));
        var snapshot = t.getSnapshot();
        org.assertj.core.api.Assertions.assertThat(snapshot.getMin()).isEqualTo(200_000L);
        org.assertj.core.api.Assertions.assertThat(snapshot.getMax()).isEqualTo(3_000_000L);
        org.assertj.core.api.Assertions.assertThat(snapshot.getMedian()).isBetween(200_000.0, 3_000_000.0);
    }

    @Test
    void theSampledReservoirTakesAboutOneUpdateInEight() {
        java.util.concurrent.atomic.AtomicInteger taken = new java.util.concurrent.atomic.AtomicInteger();
        com.codahale.metrics.Reservoir counting = new com.codahale.metrics.UniformReservoir() {
            @Override
            public void update(long value) {
                taken.incrementAndGet();
            }
        };
        BucketTimer.Sampled sampled = new BucketTimer.Sampled(counting, BucketTimer.REQUEST_SAMPLE_EVERY);
        for (int i = 0; i < 80_000; i++) {
            sampled.update(i);
        }
        org.assertj.core.api.Assertions.assertThat(taken.get()).isBetween(9_000, 11_000);
    }
}
