package dev.spillway.chaos.cli;

import dev.spillway.chaos.run.ChaosReport;
import dev.spillway.chaos.run.ChaosRun;
import dev.spillway.chaos.run.Fault;
import dev.spillway.chaos.run.ProcessTopology;
import dev.spillway.chaos.run.RemoteTopology;
import dev.spillway.chaos.run.SpillDiskFull;
import dev.spillway.chaos.run.Topology;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code chaos}: fault injection against the local cluster (or given addresses), scheduled or one at a time. */
@Command(name = "chaos", mixinStandardHelpOptions = true, description = "Inject faults and check the promise.",
        subcommands = {ChaosCommand.Run.class, ChaosCommand.KillMaster.class, ChaosCommand.PauseMaster.class,
                ChaosCommand.ShutdownMaster.class, ChaosCommand.KillRelay.class, ChaosCommand.KillSentinel.class,
                ChaosCommand.RestartRedis.class, ChaosCommand.Drain.class, ChaosCommand.PauseUntilPromotion.class,
                ChaosCommand.ManualFailover.class, ChaosCommand.FreezeSentinelMajority.class,
                ChaosCommand.SpillDiskFullCommand.class})
public final class ChaosCommand implements Runnable {

    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    static LocalCluster attached(BaseOption base) throws IOException {
        return LocalCluster.attach(base.resolve()).filter(LocalCluster::anyAlive).orElseThrow(() ->
                new IllegalStateException("the local cluster is not up: run ./spillway up first"));
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Producers on RESP, line and HTTP through HAProxy; faults on a seeded schedule; "
                    + "a report; exit 1 if anything acknowledged was lost, duplicated or reordered.")
    static final class Run implements Callable<Integer> {
        @Mixin
        BaseOption base;

        @Option(names = "--faults", defaultValue = "kill-master,pause-master,kill-relay", split = ",",
                description = "Menu of faults; join with + to inject together (default: ${DEFAULT-VALUE}). "
                        + "Kinds: kill-master, pause-master, shutdown-master, kill-relay, kill-sentinel, all-redis-down, "
                        + "pause-until-promotion, manual-failover, freeze-sentinel-majority, spill-disk-full (needs "
                        + "'up --spill-disk').")
        List<String> faults;

        @Option(names = "--duration", defaultValue = "2m", description = "How long to keep injecting (default: ${DEFAULT-VALUE}).")
        String duration;

        @Option(names = "--rate", defaultValue = "100", description = "Messages/s per producer (default: ${DEFAULT-VALUE}).")
        int rate;

        @Option(names = "--producers", defaultValue = "2", description = "Producers per protocol (default: ${DEFAULT-VALUE}).")
        int producers;

        @Option(names = "--pipelined", defaultValue = "0", description = "Pipelining RESP connections in place of the "
                + "one-at-a-time RESP producers: bursts of --depth commands of 1-3 values over data_queue:r0..r3 (RPUSH) "
                + "and data_queue:l0..l3 (LPUSH) (default: ${DEFAULT-VALUE}, none).")
        int pipelined;

        @Option(names = "--depth", defaultValue = "16", description = "Commands per pipelined burst; up to twice as "
                + "many await replies (default: ${DEFAULT-VALUE}).")
        int depth;

        @Option(names = "--pipelined-rate", defaultValue = "800", description = "Values/s per pipelined connection "
                + "(default: ${DEFAULT-VALUE}).")
        int pipelinedRate;

        @Option(names = "--seed", description = "Random seed (default: random, printed).")
        Long seed;

        @Option(names = "--max-faults", defaultValue = "1000", description = "Stop after this many injections.")
        int maxFaults;

        @Option(names = "--report", defaultValue = ".spillway/chaos-report.json", description = "JSON report file.")
        Path report;

        @Option(names = "--sentinels", split = ",", description = "Remote mode: Sentinel host:port list.")
        List<String> sentinels;

        @Option(names = "--haproxy", description = "Remote mode: HAProxy host (RESP 6380, line 9501, HTTP 8080).")
        String haproxy;

        @Option(names = "--relay-admin", split = ",", description = "Remote mode: relays' admin host:port list.")
        List<String> relayAdmins;

        @Override
        public Integer call() throws Exception {
            long s = seed != null ? seed : new java.security.SecureRandom().nextLong();
            List<List<Fault>> menu = faults.stream().map(Fault::parseCombination).toList();
            String prefix = "chaos-" + Long.toHexString(System.currentTimeMillis()) + ":";
            System.out.println("chaos run: faults " + faults + ", duration " + duration + ", rate " + rate + "/s x "
                    + ((pipelined > 0 ? 2 : 3) * producers) + " producers"
                    + (pipelined > 0 ? " + " + pipelined + " pipelined RESP connections (bursts of " + depth + ", "
                            + pipelinedRate + " values/s each)" : "")
                    + ", seed " + s + ", values prefixed " + prefix);
            ChaosRun.Options options = new ChaosRun.Options(menu, Units.duration(duration), maxFaults, producers, rate, s,
                    "data_queue", prefix, false);
            if (pipelined > 0) {
                options = options.pipelined(pipelined, depth, pipelinedRate);
            }
            Topology t = haproxy != null
                    ? new RemoteTopology(haproxy, 6380, 9501, 8080, sentinels == null ? List.of() : sentinels,
                            relayAdmins == null ? List.of() : relayAdmins)
                    : new ProcessTopology(attached(base), false);
            ChaosReport r;
            try (t) {
                r = new ChaosRun(options).run(t, line -> System.out.println("  " + line));
            }
            System.out.println();
            System.out.print(r.toText());
            System.out.println("JSON report: " + JsonFile.write(report, r));
            return r.ok() ? 0 : 1;
        }
    }

    abstract static class Single implements Callable<Integer> {
        @Mixin
        BaseOption base;

        abstract String act(ProcessTopology t) throws Exception;

        @Override
        public Integer call() throws Exception {
            try (ProcessTopology t = new ProcessTopology(attached(base), false)) {
                long start = System.nanoTime();
                String what = act(t);
                System.out.printf("%s (%d ms)%n", what, (System.nanoTime() - start) / 1_000_000);
            }
            return 0;
        }
    }

    /** A fault of the chaos suite's menu, injected once. */
    abstract static class FaultShot extends Single {
        private final Fault fault;

        FaultShot(Fault fault) {
            this.fault = fault;
        }

        @Override
        String act(ProcessTopology t) throws Exception {
            return fault.inject(t, new Random());
        }
    }

    @Command(name = "kill-master", description = "SIGKILL the current master; restart it once Sentinel promoted another.")
    static final class KillMaster extends FaultShot {
        KillMaster() {
            super(Fault.KILL_MASTER);
        }
    }

    @Command(name = "pause-master", description = "SIGSTOP the current master for the given time (e.g. 10s), then SIGCONT.")
    static final class PauseMaster extends Single {
        @Parameters(index = "0", defaultValue = "10s", description = "How long (default: ${DEFAULT-VALUE}).")
        String length;

        @Override
        String act(ProcessTopology t) {
            String m = t.currentMaster();
            t.freeze(m);
            try {
                Thread.sleep(Units.duration(length).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                t.resume(m);
            }
            return "SIGSTOP " + m + " for " + length + ", then SIGCONT; master now " + t.currentMaster();
        }
    }

    @Command(name = "shutdown-master", description = "SHUTDOWN NOSAVE the current master; restart it after the failover.")
    static final class ShutdownMaster extends FaultShot {
        ShutdownMaster() {
            super(Fault.SHUTDOWN_MASTER);
        }
    }

    /** SIGKILL one node and restart it two seconds later. */
    abstract static class KillThenRestart extends Single {
        abstract String node();

        @Override
        String act(ProcessTopology t) throws Exception {
            return Fault.killThenRestart(t, node(), Duration.ofSeconds(2));
        }
    }

    @Command(name = "kill-relay", description = "SIGKILL relay N (1-based) and restart it on its spill directory.")
    static final class KillRelay extends KillThenRestart {
        @Parameters(index = "0", description = "Relay number.")
        int relay;

        @Override
        String node() {
            return "relay-" + relay;
        }
    }

    @Command(name = "kill-sentinel", description = "SIGKILL Sentinel N (1-based) and restart it.")
    static final class KillSentinel extends KillThenRestart {
        @Parameters(index = "0", description = "Sentinel number.")
        int sentinel;

        @Override
        String node() {
            return "sentinel-" + sentinel;
        }
    }

    @Command(name = "restart-redis", description = "All Redis nodes down (SHUTDOWN) for the given time, then back.")
    static final class RestartRedis extends Single {
        @Parameters(index = "0", defaultValue = "5s", description = "How long (default: ${DEFAULT-VALUE}).")
        String length;

        @Override
        String act(ProcessTopology t) throws Exception {
            return Fault.allRedisDownFor(t, Units.duration(length)) + "; healthy master "
                    + t.awaitHealthy(Duration.ofSeconds(60));
        }
    }

    @Command(name = "pause-until-promotion", description = "SIGSTOP the current master and SIGCONT it the moment a "
            + "Sentinel announces +promoted-slave (subscribed first); wait until the old master is a replica again.")
    static final class PauseUntilPromotion extends FaultShot {
        PauseUntilPromotion() {
            super(Fault.PAUSE_UNTIL_PROMOTION);
        }
    }

    @Command(name = "manual-failover", description = "SENTINEL FAILOVER mymaster on a random Sentinel (retrying "
            + "-INPROG / -NOGOODSLAVE); wait until the Sentinels agree and the old master is a replica again.")
    static final class ManualFailover extends FaultShot {
        ManualFailover() {
            super(Fault.MANUAL_FAILOVER);
        }
    }

    @Command(name = "freeze-sentinel-majority", description = "SIGSTOP two of the three Sentinels for the given time "
            + "(default 3s), then SIGCONT; wait until no Sentinel is in TILT.")
    static final class FreezeSentinelMajority extends Single {
        @Parameters(index = "0", defaultValue = "3s", description = "How long (default: ${DEFAULT-VALUE}).")
        String length;

        @Override
        String act(ProcessTopology t) throws Exception {
            return Fault.freezeSentinelMajority(t, new Random(), Units.duration(length));
        }
    }

    @Command(name = "spill-disk-full", description = "Fill every relay's own spill disk ('up --spill-disk 16m') to "
            + "--leave-free, freeze both replicas (no failover) until every relay reports full or --max-outage "
            + "passed, resume them with the disks still full and wait until every relay drained its spill; then "
            + "remove the filler and wait until every relay is ok. Run producers meanwhile (chaos run --faults "
            + "spill-disk-full does).")
    static final class SpillDiskFullCommand extends Single {
        @Option(names = "--leave-free", defaultValue = "1m", description = "Free space left on each spill disk "
                + "(default: ${DEFAULT-VALUE}).")
        String leaveFree;

        @Option(names = "--max-outage", defaultValue = "20s", description = "Longest time the replicas stay frozen "
                + "(default: ${DEFAULT-VALUE}).")
        String maxOutage;

        @Override
        String act(ProcessTopology t) throws Exception {
            return SpillDiskFull.inject(t, SpillDiskFull.Options.defaults().leaveFree(Units.bytes(leaveFree))
                    .maxOutage(Units.duration(maxOutage)));
        }
    }

    @Command(name = "drain", description = "The drain runbook for relay N: SIGTERM (its agent tells HAProxy 'drain').")
    static final class Drain extends Single {
        @Parameters(index = "0", description = "Relay number.")
        int relay;

        @Option(names = "--restart", description = "Start it again afterwards (its agent tells HAProxy 'ready').")
        boolean restart;

        @Override
        String act(ProcessTopology t) throws Exception {
            LocalCluster c = t.cluster();
            c.drainRelay(relay, Duration.ofSeconds(30));
            String what = "relay-" + relay + " drained and stopped (exit after SIGTERM)";
            if (restart) {
                Node r = c.relays().get(relay - 1);
                r.start();
                c.saveState();
                c.awaitRelaysUp(Duration.ofSeconds(30));
                what += "; restarted, and HAProxy sends it connections again";
            }
            return what;
        }
    }
}
