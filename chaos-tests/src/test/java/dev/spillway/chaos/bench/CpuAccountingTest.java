package dev.spillway.chaos.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.chaos.topology.ProcStat;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The accounting against real processes doing measurable work: this JVM burning CPU, a child
 * that burns CPU and is reaped (the way redis-benchmark is charged), and tracked processes that
 * burn, are replaced or die during the interval.
 */
class CpuAccountingTest {

    private static final long TICKS = CpuAccounting.clockTicksPerSecond();

    @Test
    void theClockTickIsTheSystems() {
        assertThat(TICKS).isBetween(10L, 10_000L); // 100 on Linux on every usual architecture
    }

    @Test
    void thisJvmAsTheLoadGeneratorIsChargedTheCpuItBurned() {
        CpuAccounting cpu = CpuAccounting.thisJvm();
        CpuAccounting.Sample before = cpu.start();
        long burnedNanos = burnThisThread(TimeUnit.MILLISECONDS.toNanos(400));
        CpuUse use = cpu.stop(before, 1_000, CpuAccounting.LoadGenerator.THIS_JVM, "bench JVM");

        assertThat(use.messages()).isEqualTo(1_000);
        assertThat(use.clockTicksPerSecond()).isEqualTo(TICKS);
        assertThat(use.processes()).hasSize(1);
        CpuUse.Process jvm = use.processes().get(0);
        assertThat(jvm.name()).isEqualTo("bench JVM");
        assertThat(jvm.role()).isEqualTo("load generator");
        // the whole process used at least what this thread did, less a tick of rounding at each end
        assertThat(jvm.ticks()).isGreaterThanOrEqualTo(burnedNanos * TICKS / 1_000_000_000L - 2);
        assertThat(jvm.microsPerMessage()).isEqualTo(jvm.ticks() * 1e6 / TICKS / 1_000);
        assertThat(jvm.microsPerMessage()).isGreaterThan(300.0); // ≥ ~400 ms over 1,000 messages
        assertThat(use.totalMicrosPerMessage()).isEqualTo(jvm.microsPerMessage());
        assertThat(use.column("load generator")).isEqualTo(String.format("%.1f", jvm.microsPerMessage()));
    }

    @Test
    void aReapedChildAsTheLoadGeneratorIsChargedItsCpuAndNotThisJvms() throws Exception {
        CpuAccounting cpu = CpuAccounting.thisJvm();
        CpuAccounting.Sample before = cpu.start();
        Process child = busyChild();
        long seen = burnUntil(child.pid(), 50);
        child.destroyForcibly();
        child.waitFor(10, TimeUnit.SECONDS); // reaped: its CPU time is now this JVM's cutime + cstime
        burnThisThread(TimeUnit.MILLISECONDS.toNanos(150)); // this JVM's own time must not count
        CpuUse use = cpu.stop(before, 100, CpuAccounting.LoadGenerator.CHILD, "busy child");

        CpuUse.Process gen = use.processes().get(0);
        // what the child used (a few ticks more between the last look and the kill), not this JVM's 15
        assertThat(gen.ticks()).isGreaterThanOrEqualTo(seen).isLessThan(seen + 12);
    }

    @Test
    void trackedProcessesAreChargedWhatTheyBurnedAndAReplacedOrGoneOneIsMarked() throws Exception {
        Process steady = busyChild();
        Process first = busyChild();
        Process dying = busyChild();
        AtomicLong replacedPid = new AtomicLong(first.pid());
        CpuAccounting cpu = new CpuAccounting(() -> List.of(
                new CpuAccounting.Tracked("steady", "relay", steady::pid),
                new CpuAccounting.Tracked("replaced", "master", replacedPid::get),
                new CpuAccounting.Tracked("dying", "replica", dying::pid)), TICKS);
        Process second = null;
        try {
            CpuAccounting.Sample before = cpu.start();
            long startTicks = before.stats().get(0).cpuTicks();
            long burned = burnUntil(steady.pid(), startTicks + 20) - startTicks;
            first.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            second = busyChild();
            replacedPid.set(second.pid());
            long secondBurned = burnUntil(second.pid(), 5);
            dying.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            CpuUse use = cpu.stop(before, 10, CpuAccounting.LoadGenerator.THIS_JVM, "bench JVM");

            assertThat(use.processes()).extracting(CpuUse.Process::name)
                    .containsExactly("steady", "replaced", "dying", "bench JVM");
            CpuUse.Process s = use.processes().get(0);
            assertThat(s.ticks()).isGreaterThanOrEqualTo(burned);
            assertThat(s.partial()).isEmpty();
            assertThat(s.microsPerMessage()).isEqualTo(s.ticks() * 1e6 / TICKS / 10);
            CpuUse.Process r = use.processes().get(1);
            assertThat(r.partial()).isEqualTo("restarted");
            assertThat(r.ticks()).isGreaterThanOrEqualTo(secondBurned);
            assertThat(use.processes().get(2).partial()).isEqualTo("gone");
            assertThat(use.processes().get(2).ticks()).isZero();
            assertThat(use.column("master")).endsWith("*");
            assertThat(use.totalMicrosPerMessage()).isEqualTo(
                    use.processes().stream().mapToDouble(CpuUse.Process::microsPerMessage).sum());
        } finally {
            for (Process p : new Process[] {steady, first, dying, second}) {
                if (p != null) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** A child process that spins until killed. */
    private static Process busyChild() throws IOException {
        return new ProcessBuilder("sh", "-c", "while :; do :; done").start();
    }

    /** Waits until process {@code pid} has used {@code ticks} of CPU in all; what it had then. */
    private static long burnUntil(long pid, long ticks) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            long now = ProcStat.read(pid).orElseThrow().cpuTicks();
            if (now >= ticks) {
                return now;
            }
            TimeUnit.MILLISECONDS.sleep(20);
        }
        throw new AssertionError("pid " + pid + " did not use " + ticks + " ticks of CPU in 60 s");
    }

    /** Spins this thread until it has used {@code nanos} of CPU; the CPU time it used. */
    private static long burnThisThread(long nanos) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long start = threads.getCurrentThreadCpuTime();
        while (threads.getCurrentThreadCpuTime() - start < nanos) {
            Thread.onSpinWait();
        }
        return threads.getCurrentThreadCpuTime() - start;
    }
}
