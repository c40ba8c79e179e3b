package dev.spillway.chaos.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bench's rows in the order measured: printed as a table with each compared target's
 * throughput as a ratio to the direct master (and the relays' to the passthrough), and kept
 * for the JSON file.
 *
 * <p>Not thread-safe.
 */
public final class ResultsTable {

    private static final String FORMAT = "%-62s %-32s %12s %9s %9s %9s  %s%n";
    private static final String CPU_FORMAT = "%-62s %-32s %7s %13s %20s %8s %20s %9s %7s%n";

    private final List<BenchRow> rows = new ArrayList<>();

    public void addAll(List<BenchRow> more) {
        rows.addAll(more);
    }

    public List<BenchRow> rows() {
        return List.copyOf(rows);
    }

    /** What the JSON file holds: the machine and the rows. */
    public Map<String, Object> toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("machine", Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + ", Java " + System.getProperty("java.version"));
        out.put("rows", rows);
        return out;
    }

    /** Prints both tables on standard output. */
    public void print() {
        print(System.out);
    }

    /** Prints the throughput table (with ratios) and the CPU table on {@code out}. */
    public void print(PrintStream out) {
        out.println();
        out.printf(FORMAT, "test", "target", "msg/s", "p50 ms", "p99 ms", "p999 ms", "note");
        Map<String, Double> directByTest = new LinkedHashMap<>();
        Map<String, Double> passthroughByTest = new LinkedHashMap<>();
        for (BenchRow r : rows) {
            if (r.role() == BenchRow.Role.DIRECT) {
                directByTest.put(r.test(), r.perSecond());
            }
            if (r.role() == BenchRow.Role.PASSTHROUGH) {
                passthroughByTest.put(r.test(), r.perSecond());
            }
        }
        for (BenchRow r : rows) {
            String note = r.note();
            Double direct = directByTest.get(r.test());
            if (direct != null && r.role() != BenchRow.Role.NONE && r.role() != BenchRow.Role.DIRECT) {
                note = String.format("%.2fx direct", r.perSecond() / direct) + (note.isEmpty() ? "" : "; " + note);
            }
            Double pass = passthroughByTest.get(r.test());
            if (pass != null && r.role() == BenchRow.Role.RELAYS) {
                note += String.format("; %.2fx passthrough", r.perSecond() / pass);
            }
            out.printf(FORMAT, r.test(), r.target(),
                    Double.isNaN(r.perSecond()) ? "" : String.format("%.0f", r.perSecond()), fmt(r.p50()),
                    fmt(r.p99()), fmt(r.p999()), note);
        }
        printCpu(out);
    }

    /**
     * The second table: µs of CPU per acknowledged message of each process in each row that
     * acknowledged messages; several processes of a role (replicas, relays, Sentinels) are shown
     * each, joined by "+", and a {@code *} marks a process restarted or gone during the interval.
     */
    private void printCpu(PrintStream out) {
        out.println();
        out.println("CPU per acknowledged message, µs (utime + stime from /proc/<pid>/stat around each row's "
                + "measured interval; * = restarted or gone during it, only what was measured)");
        out.printf(CPU_FORMAT, "test", "target", "master", "replicas", "relays", "HAProxy", "Sentinels",
                "load gen", "total");
        for (BenchRow r : rows) {
            CpuUse c = r.cpu();
            if (c == null) {
                continue;
            }
            out.printf(CPU_FORMAT, r.test(), r.target(), c.column("master"), c.column("replica"),
                    c.column("relay"), c.column("haproxy"), c.column("sentinel"), c.column("load generator"),
                    String.format("%.1f", c.totalMicrosPerMessage()));
        }
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "" : String.format("%.2f", v);
    }
}
