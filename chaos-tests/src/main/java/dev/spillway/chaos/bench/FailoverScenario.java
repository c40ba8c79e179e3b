package dev.spillway.chaos.bench;

import dev.spillway.chaos.run.ChaosReport;
import dev.spillway.chaos.run.ChaosRun;
import dev.spillway.chaos.run.Fault;
import dev.spillway.chaos.run.ProcessTopology;
import dev.spillway.chaos.topology.LocalCluster;
import java.time.Duration;
import java.util.List;

/**
 * One SIGKILL of the master under the chaos suite's producers (RESP, line and HTTP, four each):
 * the acked rate, the latency while the fault lasts, the producer-visible errors and the drain,
 * and the CPU time per acknowledged message over the whole run (the load, the failover, the
 * drain and the read-back of every list that the check makes; this JVM is the load generator).
 */
public final class FailoverScenario {

    private final LocalCluster cluster;
    private final int rate;
    private final CpuAccounting cpu;

    /** @param rate msg/s in all, spread over the twelve producers */
    public FailoverScenario(LocalCluster cluster, int rate, CpuAccounting cpu) {
        this.cluster = cluster;
        this.rate = rate;
        this.cpu = cpu;
    }

    public List<BenchRow> run() throws Exception {
        ChaosRun.Options o = new ChaosRun.Options(List.of(List.of(Fault.KILL_MASTER)), Duration.ofMinutes(2), 1, 4,
                rate / 12, 1, "data_queue", "bench-" + System.currentTimeMillis() + ":", true);
        ChaosReport r;
        CpuUse use;
        try (ProcessTopology t = new ProcessTopology(cluster, false)) {
            CpuAccounting.Sample before = cpu.start();
            r = new ChaosRun(o).run(t, line -> { });
            use = cpu.stop(before, r.acked(), CpuAccounting.LoadGenerator.THIS_JVM, "bench JVM");
        }
        double[] fault = r.latencyMs().get("fault");
        System.out.printf("  failover (SIGKILL master) at %d msg/s: errors %d, p99 %.2f ms, drained in %d ms, %s%n",
                rate, r.producerErrors(), fault[1], r.maxDrainMs(), r.ok() ? "nothing lost" : "CHECK FAILED");
        return List.of(BenchRow.of("failover: SIGKILL master at " + (rate / 12 * 12) + " msg/s (RESP, line, HTTP)",
                "HAProxy -> relays", r.acked() * 1000.0 / r.durationMs(), fault[0], fault[1], fault[2],
                "producer errors " + r.producerErrors() + ", drained in " + r.maxDrainMs() + " ms, lost "
                        + r.check().lost().size()).withCpu(use));
    }
}
