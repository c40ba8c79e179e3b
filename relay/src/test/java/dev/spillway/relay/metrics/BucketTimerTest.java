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
}
