package dev.spillway.chaos.run;

import dev.spillway.chaos.check.ListCheck;
import dev.spillway.chaos.workload.Producer;
import dev.spillway.chaos.workload.Workload;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A chaos run: producers on all three protocols through the load balancer (optionally pipelining
 * RESP connections over several lists), faults injected on a
 * seeded random schedule (one fault or combination at a time, with steady stretches between),
 * then the producers stop, the relays drain, and the list is checked message by message.
 */
public final class ChaosRun {

    /**
     * @param faults the menu: each entry one fault or a combination injected together
     * @param maxFaults stop after this many injections even if time remains
     * @param producersPerProtocol line and HTTP producers (and one-at-a-time RESP producers when
     *     {@code pipelinedProducers} is 0), each at {@code ratePerProducer} messages/s
     * @param prefix written in front of every value (a run's own namespace in a shared list)
     * @param roundRobin take the menu in order (a fixed suite) rather than at random
     * @param pipelinedProducers pipelining RESP connections ({@link
     *     dev.spillway.chaos.workload.PipelinedRespProducer}) in place of the one-at-a-time RESP
     *     producers; 0 = none
     * @param pipelineDepth commands each pipelined connection writes back to back (bursts)
     * @param pipelinedRate values/s per pipelined connection
     * @param steady the shortest steady stretch before each fault (a random as much again is added)
     */
    public record Options(List<List<Fault>> faults, Duration duration, int maxFaults, int producersPerProtocol,
            int ratePerProducer, long seed, String key, String prefix, boolean roundRobin, int pipelinedProducers,
            int pipelineDepth, int pipelinedRate, Duration steady) {

        /** One-at-a-time producers on RESP, line and HTTP; 1-2 s steady stretches. */
        public Options(List<List<Fault>> faults, Duration duration, int maxFaults, int producersPerProtocol,
                int ratePerProducer, long seed, String key, String prefix, boolean roundRobin) {
            this(faults, duration, maxFaults, producersPerProtocol, ratePerProducer, seed, key, prefix, roundRobin, 0,
                    16, 0, Duration.ofSeconds(1));
        }

        /** The same with {@code producers} pipelining RESP connections in place of the one-at-a-time RESP ones. */
        public Options pipelined(int producers, int depth, int valuesPerSecond) {
            return new Options(faults, duration, maxFaults, producersPerProtocol, ratePerProducer, seed, key, prefix,
                    roundRobin, producers, depth, valuesPerSecond, steady);
        }

        public Options steady(Duration shortest) {
            return new Options(faults, duration, maxFaults, producersPerProtocol, ratePerProducer, seed, key, prefix,
                    roundRobin, pipelinedProducers, pipelineDepth, pipelinedRate, shortest);
        }
    }

    private final Options options;

    public ChaosRun(Options options) {
        this.options = options;
    }

    public ChaosReport run(Topology t, Consumer<String> progress) throws IOException, InterruptedException {
        Random random = new Random(options.seed());
        long start = System.nanoTime();
        Workload load = (options.pipelinedProducers() > 0
                ? Workload.withPipelinedResp(t.host(), t.respPort(), t.linePort(), t.httpPort(), options.key(),
                        options.producersPerProtocol(), options.ratePerProducer(), options.pipelinedProducers(),
                        options.pipelineDepth(), options.pipelinedRate(), Long.MAX_VALUE)
                : Workload.of(t.host(), t.respPort(), t.linePort(), t.httpPort(), options.key(),
                        options.producersPerProtocol(), options.ratePerProducer(), Long.MAX_VALUE))
                .prefix(options.prefix()).start();
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger failovers = new AtomicInteger();
        Thread monitor = new Thread(() -> watch(t, load, running, failovers, start, progress), "chaos-monitor");
        monitor.setDaemon(true);
        monitor.start();
        try {
            List<ChaosReport.FaultEvent> events = new ArrayList<>();
            long maxDrain = 0;
            try {
                load.awaitAcks(200, 30_000);
                while (elapsedMs(start) < options.duration().toMillis() && events.size() < options.maxFaults()) {
                    load.phase(Producer.Phase.STEADY);
                    long steady = Math.max(0, options.steady().toMillis());
                    Fault.sleep(steady + (steady == 0 ? 0 : random.nextInt((int) Math.min(Integer.MAX_VALUE, steady))));
                    List<Fault> combo = options.faults().get(options.roundRobin() ? events.size() % options.faults().size()
                            : random.nextInt(options.faults().size()));
                    String name = String.join("+", combo.stream().map(Fault::cliName).toList());
                    progress.accept("injecting " + name);
                    load.phase(Producer.Phase.FAULT);
                    long at = elapsedMs(start);
                    String what;
                    try {
                        what = inject(t, combo, random);
                    } catch (IOException e) {
                        throw new IOException(name + ": " + e.getMessage() + "\n" + producersSoFar(load), e);
                    }
                    long injected = elapsedMs(start) - at;
                    load.phase(Producer.Phase.RECOVERY);
                    long drain = awaitDrained(t, Duration.ofSeconds(90));
                    maxDrain = Math.max(maxDrain, drain);
                    events.add(new ChaosReport.FaultEvent(name, what, at, injected, drain));
                    progress.accept(String.format("%s: %s (settled %d ms, drained %d ms)", name, what, injected, drain));
                }
                load.phase(Producer.Phase.STEADY);
                Fault.sleep(1000);
            } finally {
                load.stop();
            }
            for (String relay : t.relayNodes()) {
                if (!t.isAlive(relay)) {
                    t.restart(relay); // whatever it spilled is replayed before we look
                }
            }
            long finalDrain = awaitDrained(t, Duration.ofSeconds(120));
            Map<String, Boolean> written = load.lists(options.key());
            Map<String, List<byte[]>> lists = new LinkedHashMap<>();
            for (String key : written.keySet()) {
                lists.put(key, t.readList(key));
            }
            Set<String> lpush = new TreeSet<>();
            written.forEach((key, isLpush) -> {
                if (isLpush) {
                    lpush.add(key);
                }
            });
            ListCheck check = ListCheck.ofKeys(lists, lpush, options.prefix(), load.acked(), load.sent(), load.resent(),
                    load.epochStarts(), load.keyOf(), load.refused());
            Map<String, double[]> latency = new LinkedHashMap<>();
            for (Producer.Phase p : Producer.Phase.values()) {
                latency.put(p.name().toLowerCase(), load.latency().percentiles(p));
            }
            List<String> errors = load.errors();
            List<String> outside = load.errorsOutsideFaults();
            long resent = load.resent().values().stream().mapToLong(java.util.Set::size).sum();
            long sent = load.sent().values().stream().mapToLong(Long::longValue).sum();
            return new ChaosReport(options.seed(), elapsedMs(start), events, failovers.get(), sent, load.ackedCount(),
                    errors.size(), errors.subList(0, Math.min(20, errors.size())), resent, load.reconnects(), check, latency,
                    maxDrain, finalDrain, load.maxInFlight(), load.refusedCount(), outside.size(),
                    outside.subList(0, Math.min(20, outside.size())), load.errorReasons(20));
        } finally {
            running.set(false); // the monitor stops with the run, also when a fault or the drain fails
        }
    }

    /** What the producers had seen when a fault failed: the run's report is never written then. */
    private static String producersSoFar(Workload load) {
        return String.format("producers so far: acknowledged %d, producer-visible errors %d (values refused %d, "
                + "outside faults %d); errors by reason: %s", load.ackedCount(), load.errors().size(),
                load.refusedCount(), load.errorsOutsideFaults().size(), load.errorReasons(8));
    }

    private static String inject(Topology t, List<Fault> combo, Random random) throws IOException, InterruptedException {
        if (combo.size() == 1) {
            return combo.get(0).inject(t, random);
        }
        List<String> what = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        List<Exception> failures = new ArrayList<>();
        for (Fault f : combo) {
            long seed = random.nextLong();
            Thread th = new Thread(() -> {
                try {
                    String w = f.inject(t, new Random(seed));
                    synchronized (what) {
                        what.add(w);
                    }
                } catch (Exception e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join(180_000);
        }
        if (!failures.isEmpty()) {
            throw new IOException("fault injection failed: " + failures.get(0), failures.get(0));
        }
        return String.join("; ", what);
    }

    /** Waits until every live relay writes directly with an empty spill; returns how long it took. */
    static long awaitDrained(Topology t, Duration timeout) throws IOException {
        long start = System.nanoTime();
        t.awaitHealthy(timeout);
        while (System.nanoTime() - start < timeout.toNanos()) {
            Map<String, Map<String, Object>> health = t.relayHealth();
            boolean drained = health.size() == t.relayNodes().stream().filter(t::isAlive).count()
                    && health.values().stream().allMatch(h -> "DIRECT".equals(h.get("mode"))
                            && ((Number) h.get("pendingMessages")).longValue() == 0);
            if (drained) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Fault.sleep(50);
        }
        throw new IOException("relays did not drain their spill within " + timeout + ": " + t.relayHealth());
    }

    private static void watch(Topology t, Workload load, AtomicBoolean running, AtomicInteger failovers, long start,
            Consumer<String> progress) {
        String last = null;
        long nextLine = 0;
        while (running.get()) {
            String m = t.currentMaster();
            if (m != null && last != null && !m.equals(last)) {
                failovers.incrementAndGet();
            }
            if (m != null) {
                last = m;
            }
            if (elapsedMs(start) >= nextLine) {
                nextLine += 1000;
                long spill = t.relayHealth().values().stream()
                        .mapToLong(h -> ((Number) h.get("pendingMessages")).longValue()).sum();
                progress.accept(String.format("%5d s  acked %8d  errors %3d  reconnects %4d  master %-8s  spill %6d",
                        elapsedMs(start) / 1000, load.ackedCount(), load.errors().size(), load.reconnects(), m, spill));
            }
            Fault.sleep(200);
        }
    }

    private static long elapsedMs(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
