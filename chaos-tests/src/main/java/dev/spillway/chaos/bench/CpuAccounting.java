package dev.spillway.chaos.bench;

import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.ProcStat;
import dev.spillway.chaos.topology.SentinelGroup;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * CPU time per acknowledged message of every process a bench row involves, from {@code
 * /proc/<pid>/stat} read before and after the measured interval: {@code utime + stime}, in clock
 * ticks ({@code getconf CLK_TCK}), turned into µs and divided by the messages acknowledged in
 * the interval.
 *
 * <p>The load generator is either this JVM (its own {@code utime + stime}: producers, their
 * clients, its GC and JIT) or a child process such as {@code redis-benchmark}, whose CPU time is
 * read from this JVM's {@code cutime + cstime} — the CPU time of the children it reaped during
 * the interval. A child must therefore be waited for ({@link Process#waitFor}) before {@link
 * #stop}, and the interval must run no other child.
 *
 * <p>Thread-safe if the processes' supplier is.
 */
public final class CpuAccounting {

    /** What drives the load of one interval. */
    public enum LoadGenerator {
        /** A child process of this JVM, reaped before the interval ends ({@code redis-benchmark}). */
        CHILD,
        /** This JVM's own threads. */
        THIS_JVM
    }

    /**
     * A process to account for: its name (redis-1, relay-2, ...), its part in the row and its pid
     * now (a node restarted during an interval has another one at its end).
     */
    public record Tracked(String name, String role, LongSupplier pid) {}

    /** The processes and their stat lines at the start of an interval; {@code null} stat: unreadable. */
    public record Sample(long nanos, List<Tracked> processes, List<ProcStat> stats, ProcStat self) {}

    private static final long SELF = ProcessHandle.current().pid();

    private final Supplier<List<Tracked>> processes;
    private final long ticksPerSecond;

    /** @param processes the processes other than this JVM, asked afresh at the start of each interval */
    public CpuAccounting(Supplier<List<Tracked>> processes, long ticksPerSecond) {
        this.processes = processes;
        this.ticksPerSecond = ticksPerSecond;
    }

    /** Accounting for this JVM (and its children) alone. */
    public static CpuAccounting thisJvm() {
        return new CpuAccounting(List::of, clockTicksPerSecond());
    }

    /**
     * Accounting for every process of a cluster: the master (as the Sentinels name it at the start
     * of each interval), the replicas, the Sentinels, each relay and HAProxy.
     */
    public static CpuAccounting of(SentinelGroup group, List<Node> relays, Node haproxy) {
        return new CpuAccounting(() -> {
            List<Tracked> out = new ArrayList<>();
            Optional<Node> master = group.currentMaster();
            for (Node n : group.redisNodes()) {
                boolean isMaster = master.isPresent() && master.get().name().equals(n.name());
                out.add(new Tracked(n.name(), isMaster ? "master" : "replica", n::pid));
            }
            for (Node n : relays) {
                out.add(new Tracked(n.name(), "relay", n::pid));
            }
            if (haproxy != null) {
                out.add(new Tracked(haproxy.name(), "haproxy", haproxy::pid));
            }
            for (Node n : group.sentinelNodes()) {
                out.add(new Tracked(n.name(), "sentinel", n::pid));
            }
            return out;
        }, clockTicksPerSecond());
    }

    /** Reads every process's stat line: the start of an interval. */
    public Sample start() {
        List<Tracked> ps = List.copyOf(processes.get());
        List<ProcStat> stats = new ArrayList<>();
        for (Tracked p : ps) {
            stats.add(ProcStat.read(p.pid().getAsLong()).orElse(null));
        }
        return new Sample(System.nanoTime(), ps, stats, ProcStat.read(SELF).orElseThrow(
                () -> new IllegalStateException("/proc/" + SELF + "/stat is unreadable: no CPU accounting")));
    }

    /**
     * Reads every process's stat line again and charges each the CPU time it used since {@code
     * start}, per message of {@code messages}. A process that was replaced during the interval
     * (restarted: another pid or start time) is charged its replacement's CPU time alone, and
     * marked so; one that is gone is charged nothing, and marked so.
     *
     * @param generator what drove the load, charged as the row's load generator
     * @param generatorName its name in the row (redis-benchmark, bench JVM)
     */
    public CpuUse stop(Sample start, long messages, LoadGenerator generator, String generatorName) {
        ProcStat selfAfter = ProcStat.read(SELF).orElseThrow();
        double seconds = (System.nanoTime() - start.nanos()) / 1e9;
        List<CpuUse.Process> out = new ArrayList<>();
        for (int i = 0; i < start.processes().size(); i++) {
            Tracked p = start.processes().get(i);
            ProcStat before = start.stats().get(i);
            Optional<ProcStat> after = ProcStat.read(p.pid().getAsLong());
            String partial = "";
            long ticks = 0;
            if (after.isEmpty()) {
                partial = "gone";
            } else if (before == null || before.pid() != after.get().pid()
                    || before.startTime() != after.get().startTime()) {
                partial = "restarted";
                ticks = after.get().cpuTicks();
            } else {
                ticks = after.get().cpuTicks() - before.cpuTicks();
            }
            out.add(process(p.name(), p.role(), ticks, messages, partial));
        }
        long generatorTicks = generator == LoadGenerator.CHILD
                ? selfAfter.childrenCpuTicks() - start.self().childrenCpuTicks()
                : selfAfter.cpuTicks() - start.self().cpuTicks();
        out.add(process(generatorName, "load generator", generatorTicks, messages, ""));
        return CpuUse.of(messages, seconds, ticksPerSecond, out);
    }

    private CpuUse.Process process(String name, String role, long ticks, long messages, String partial) {
        return new CpuUse.Process(name, role, ticks, ticks * 1e6 / ticksPerSecond / Math.max(1, messages), partial);
    }

    /** {@code getconf CLK_TCK}: the unit of {@code /proc/<pid>/stat}'s times; 100 if it cannot be asked. */
    public static long clockTicksPerSecond() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
                return Long.parseLong(out);
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to the Linux default
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }
}
