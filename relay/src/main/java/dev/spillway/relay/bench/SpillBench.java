package dev.spillway.relay.bench;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.spillway.relay.Message;
import dev.spillway.relay.spill.SpillLog;
import dev.spillway.relay.spill.SpillLogConfig;
import dev.spillway.relay.spill.SpilledMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Measures the spill log: acknowledged (fsync'd) appends per second of fixed-size messages for
 * several numbers of concurrent appenders, each waiting for its ack before the next append, and
 * the replay rate (read + commit) of what was written.
 */
@Command(name = "spill-bench", mixinStandardHelpOptions = true,
        description = "Measure fsync'd spill appends/s and replay reads/s.")
public final class SpillBench implements Callable<Integer> {

    @Option(names = "--dir", description = "Scratch directory (deleted afterwards); default: a temp dir.")
    Path dir;

    @Option(names = "--appenders", split = ",", defaultValue = "1,8,64",
            description = "Concurrent appender counts to run (default: ${DEFAULT-VALUE}).")
    int[] appenders;

    @Option(names = "--seconds", defaultValue = "5", description = "Seconds per run (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--value-bytes", defaultValue = "100", description = "Message size (default: ${DEFAULT-VALUE}).")
    int valueBytes;

    /** One row of results. */
    public record Result(int appenders, double ackedPerSecond, double fsyncsPerSecond, double fsyncMillis,
            double messagesPerFsync, double replayPerSecond) {}

    private final java.util.List<Result> results = new java.util.ArrayList<>();

    public java.util.List<Result> results() {
        return results;
    }

    @Override
    public Integer call() throws Exception {
        Path base = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("spill-bench");
        System.out.printf("%-10s %14s %12s %12s %14s %14s%n", "appenders", "acked msg/s", "fsyncs/s",
                "fsync ms", "msgs/fsync", "replay msg/s");
        try {
            for (int n : appenders) {
                Path runDir = base.resolve("run-" + n);
                run(runDir, n);
                deleteRecursively(runDir);
            }
        } finally {
            if (dir == null) {
                deleteRecursively(base);
            }
        }
        return 0;
    }

    private void run(Path runDir, int threads) throws Exception {
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
            results.add(new Result(threads, acked.sum() / secs, fsyncs / secs, fsync.getSnapshot().getMean() / 1e6,
                    fsyncs == 0 ? 0.0 : (double) acked.sum() / fsyncs, replayRate));
            System.out.printf("%-10d %14.0f %12.0f %12.3f %14.1f %14.0f%n", threads, acked.sum() / secs,
                    fsyncs / secs, fsync.getSnapshot().getMean() / 1e6, fsyncs == 0 ? 0.0 : (double) acked.sum() / fsyncs, replayRate);
        }
    }

    private static double replay(SpillLog log) throws IOException {
        long n = 0;
        long start = System.nanoTime();
        while (true) {
            List<SpilledMessage> batch = log.cursor().read(1000, 1 << 20);
            if (batch.isEmpty()) {
                break;
            }
            n += batch.size();
            log.cursor().commit(batch.get(batch.size() - 1).index() + 1);
        }
        return n / ((System.nanoTime() - start) / 1e9);
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
