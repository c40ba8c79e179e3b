package dev.spillway.chaos.topology;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** The sleeps and elapsed times of this package's polling loops. */
final class Timing {

    private Timing() {}

    /** Sleeps, keeping the thread's interrupt flag set if interrupted (the caller's loop checks its deadline). */
    static void sleepMillis(long ms) {
        try {
            TimeUnit.MILLISECONDS.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static Duration elapsedSince(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }
}
