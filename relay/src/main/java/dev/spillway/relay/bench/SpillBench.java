package dev.spillway.relay.bench;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.spillway.relay.Message;
import dev.spillway.relay.spill.SpillLog;
import dev.spillway.relay.spill.SpillLogConfig;
import dev.spillway.relay.spill.SpilledMessage;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Measures the spill log: acknowledged (fsync'd) appends per second of fixed-size messages for
 * several numbers of concurrent appenders, each waiting for its ack before the next append, and
 * the replay rate (read + commit) of what was written.
 *
 * <p>{@link #run(Options, PrintStream)} is the measurement; the command face around it (the
 * flags, {@link #call}, {@link #results()}) is what {@code java -jar relay.jar spill-bench} and
 * the chaos-tests' bench command drive.
 */
public final class SpillBench {

    private SpillBench() {}

    /** What to measure. {@code dir} null: a temporary directory. */
    public record Options(Path dir, int[] appenders, int seconds, int valueBytes, long backlog) {}

    /** One row of results; {@code acked} is how many appends were acknowledged in all. */
    public record Result(int appenders, double ackedPerSecond, double fsyncsPerSecond, double fsyncMillis,
            double messagesPerFsync, double replayPerSecond, long acked) {}

    /**
     * The backlog run: {@code messages} appended (acked) and replayed; the heap in use after a
     * full GC before, at its highest while the backlog grew or drained, and after.
     */
    public record BacklogResult(long messages, long diskBytes, double appendPerSecond, double replayPerSecond,
            long heapBefore, long heapMax, long heapAfter) {}

    /** What a run measured: a row per number of appenders, and the backlog run's result or null. */
    public record Results(List<Result> runs, BacklogResult backlog) {}

    /** Measures what {@code options} ask for, printing a table to {@code out} row by row as it goes. */
    public static Results run(Options options, PrintStream out) throws Exception {
        List<Result> runs = new ArrayList<>();
        BacklogResult[] backlog = {null};
        run(options, out, runs, b -> backlog[0] = b);
        return new Results(List.copyOf(runs), backlog[0]);
    }

    /** Adds each row to {@code runs} as soon as it is measured, so a failed run keeps the rows before it. */
    private static void run(Options options, PrintStream out, List<Result> runs, Consumer<BacklogResult> backlog)
            throws Exception {
        Path dir = options.dir();
        Path base = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("spill-bench");
        out.printf("%-10s %14s %12s %12s %14s %14s%n", "appenders", "acked msg/s", "fsyncs/s",
                "fsync ms", "msgs/fsync", "replay msg/s");
        try {
            for (int n : options.appenders()) {
                Path runDir = base.resolve("run-" + n);
                runs.add(appenders(runDir, n, options.seconds(), options.valueBytes(), out));
                deleteRecursively(runDir);
            }
            if (options.backlog() > 0) {
                Path runDir = base.resolve("backlog");
                backlog.accept(backlog(runDir, options.backlog(), options.valueBytes(), out));
                deleteRecursively(runDir);
            }
        } finally {
            if (dir == null) {
                deleteRecursively(base);
            }
        }
    }

    private static Result appenders(Path runDir, int threads, int seconds, int valueBytes, PrintStream out)
            throws Exception {
        MetricRegistry metrics = new MetricRegistry();
        SpillLogConfig cfg = SpillLogConfig.builder(runDir).maxBytes(Long.MAX_VALUE / 2).build();
        LongAdder acked = new LongAdder();
        long elapsedNanos;
        try (SpillLog log = SpillLog.open(cfg, metrics)) {
            long deadline = System.nanoTime() + seconds * 1_000_000_000L;
            List<Thread> workers = new ArrayList<>();
            byte[] key = "bench".getBytes(StandardCharsets.US_ASCII);
            byte[] value = new byte[valueBytes];
            long start = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                long instance = t;
                Thread w = new Thread(() -> {
                    for (long seq = 0; System.nanoTime() < deadline; seq++) {
                        log.append(new Message(instance, seq, Message.ListOp.RPUSH, key, value)).join();
                        acked.increment();
                    }
                });
                w.start();
                workers.add(w);
            }
            for (Thread w : workers) {
                w.join();
            }
            elapsedNanos = System.nanoTime() - start;
            Timer fsync = metrics.timer(MetricRegistry.name(SpillLog.class, "fsync"));
            long fsyncs = fsync.getCount();
            double secs = elapsedNanos / 1e9;
            double replayRate = replay(log);
            Result result = new Result(threads, acked.sum() / secs, fsyncs / secs,
                    fsync.getSnapshot().getMean() / 1e6, fsyncs == 0 ? 0.0 : (double) acked.sum() / fsyncs, replayRate, acked.sum());
            out.printf("%-10d %14.0f %12.0f %12.3f %14.1f %14.0f%n", threads, acked.sum() / secs,
                    fsyncs / secs, fsync.getSnapshot().getMean() / 1e6, fsyncs == 0 ? 0.0 : (double) acked.sum() / fsyncs, replayRate);
            return result;
        }
    }

    /**
     * A long outage in miniature: 8 appenders, each with up to 256 appends awaiting their ack
     * (as many producers' messages would be), build a backlog of {@code total} messages; then it is
     * replayed. The heap after a full GC is sampled every tenth of the way: a backlog lives on
     * disk, so it must stay flat.
     */
    private static BacklogResult backlog(Path runDir, long total, int valueBytes, PrintStream out) throws Exception {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long heapBefore = heapAfterGc(memory);
        long heapMax = heapBefore;
        SpillLogConfig cfg = SpillLogConfig.builder(runDir).maxBytes(Long.MAX_VALUE / 2).build();
        LongAdder acked = new LongAdder();
        AtomicLong next = new AtomicLong();
        byte[] key = "bench".getBytes(StandardCharsets.US_ASCII);
        byte[] value = new byte[valueBytes];
        try (SpillLog log = SpillLog.open(cfg, new MetricRegistry())) {
            long start = System.nanoTime();
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                long instance = t;
                Thread w = new Thread(() -> {
                    ArrayDeque<CompletableFuture<Long>> window = new ArrayDeque<>();
                    for (long seq = 0; next.getAndIncrement() < total; seq++) {
                        window.add(log.append(new Message(instance, seq, Message.ListOp.RPUSH, key, value)));
                        if (window.size() >= 256) {
                            window.poll().join();
                            acked.increment();
                        }
                    }
                    while (!window.isEmpty()) {
                        window.poll().join();
                        acked.increment();
                    }
                }, "backlog-appender-" + t);
                w.start();
                workers.add(w);
            }
            long checkpoint = total / 10;
            while (workers.stream().anyMatch(Thread::isAlive)) {
                workers.get(0).join(200);
                if (acked.sum() >= checkpoint) {
                    heapMax = Math.max(heapMax, heapAfterGc(memory));
                    checkpoint += total / 10;
                }
            }
            double appendSecs = (System.nanoTime() - start) / 1e9;
            long disk = diskBytes(runDir);
            out.printf("backlog: %d messages acked in %.1f s (%.0f msg/s), %d MiB on disk, heap %d MiB "
                    + "after GC before, at most %d MiB while growing%n", acked.sum(), appendSecs,
                    acked.sum() / appendSecs, disk >> 20, heapBefore >> 20, heapMax >> 20);
            long replayStart = System.nanoTime();
            long[] peak = {heapMax};
            long replayed = replay(log, total / 10, () -> peak[0] = Math.max(peak[0], heapAfterGc(memory)));
            heapMax = peak[0];
            double replaySecs = (System.nanoTime() - replayStart) / 1e9;
            long heapAfter = heapAfterGc(memory);
            BacklogResult result = new BacklogResult(acked.sum(), disk, acked.sum() / appendSecs,
                    replayed / replaySecs, heapBefore, heapMax, heapAfter);
            out.printf("backlog: %d messages replayed in %.1f s (%.0f msg/s); heap after GC: before %d MiB, "
                    + "max %d MiB, after %d MiB%n", replayed, replaySecs, replayed / replaySecs, heapBefore >> 20,
                    heapMax >> 20, heapAfter >> 20);
            return result;
        }
    }

    private static long heapAfterGc(MemoryMXBean memory) {
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    private static long diskBytes(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            long sum = 0;
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                sum += Files.size(p);
            }
            return sum;
        }
    }

    private static double replay(SpillLog log) throws IOException {
        long start = System.nanoTime();
        long n = replay(log, Long.MAX_VALUE, () -> { });
        return n / ((System.nanoTime() - start) / 1e9);
    }

    /** Reads and commits everything pending, as the relay's replayer does; {@code every} messages, runs {@code tick}. */
    private static long replay(SpillLog log, long every, Runnable tick) throws IOException {
        long n = 0;
        long next = every;
        while (true) {
            List<SpilledMessage> batch = log.cursor().read(1000, 1 << 20);
            if (batch.isEmpty()) {
                return n;
            }
            n += batch.size();
            log.cursor().commit(batch.get(batch.size() - 1).index() + 1);
            if (n >= next) {
                tick.run();
                next += every;
            }
        }
    }

    private static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }
}
