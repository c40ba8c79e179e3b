package dev.spillway.chaos.bench;

import dev.spillway.chaos.topology.Node;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;

/**
 * The highest resident set size of each relay process while other scenarios run, sampled every
 * 100 ms from /proc.
 *
 * <p>Thread-safe: one sampling thread between {@link #start} and {@link #stop}.
 */
public final class RssSampler {

    private final List<Node> relays;
    private final Map<String, Long> peaks = new ConcurrentSkipListMap<>();
    private volatile boolean stop;
    private Thread thread;

    public RssSampler(List<Node> relays) {
        this.relays = List.copyOf(relays);
    }

    public void start() {
        thread = new Thread(() -> {
            while (!stop) {
                for (Node r : relays) {
                    long rss = rssBytes(r.pid());
                    if (rss > 0) {
                        peaks.merge(r.name(), rss, Math::max);
                    }
                }
                try {
                    TimeUnit.MILLISECONDS.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "rss-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    /** Stops sampling; a row per relay with its peak. */
    public List<BenchRow> stop() throws InterruptedException {
        stop = true;
        thread.join(1_000);
        List<BenchRow> rows = new ArrayList<>();
        for (Map.Entry<String, Long> e : peaks.entrySet()) {
            rows.add(BenchRow.note("peak RSS during the runs above", e.getKey(), (e.getValue() >> 20) + " MiB"));
            System.out.printf("  peak RSS %s %d MiB%n", e.getKey(), e.getValue() >> 20);
        }
        return rows;
    }

    private static long rssBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // the process is gone or /proc is unavailable: no sample
        }
        return -1;
    }
}
