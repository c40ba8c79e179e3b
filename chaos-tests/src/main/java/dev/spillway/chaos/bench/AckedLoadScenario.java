package dev.spillway.chaos.bench;

import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.chaos.workload.LatencyRecorder;
import dev.spillway.chaos.workload.Producer;
import dev.spillway.chaos.workload.RedissonProducer;
import dev.spillway.chaos.workload.RespProducer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.redisson.config.SentinelServersConfig;

/**
 * A steady offered load, every acknowledgement checked, through HAProxy to the relays and, for
 * comparison, to the master directly (Redisson through the Sentinels, and Jedis): the acked rate
 * and the ack latency's p50, p99 and p999, and the CPU time per acknowledged message (this JVM
 * being the load generator).
 */
public final class AckedLoadScenario {

    private static final int PRODUCERS = 20;

    private final SentinelGroup group;
    private final int relaysPort;
    private final int offered;
    private final boolean halfThePeak;
    private final int seconds;
    private final CpuAccounting cpu;

    /**
     * @param relaysPort HAProxy's RESP port in front of the relays
     * @param offered msg/s in all; {@code halfThePeak} says it was chosen as half the measured peak
     */
    public AckedLoadScenario(SentinelGroup group, int relaysPort, int offered, boolean halfThePeak, int seconds,
            CpuAccounting cpu) {
        this.group = group;
        this.cpu = cpu;
        this.relaysPort = relaysPort;
        this.offered = offered;
        this.halfThePeak = halfThePeak;
        this.seconds = seconds;
    }

    public List<BenchRow> run() throws IOException, InterruptedException {
        String test = "offered " + offered + " msg/s" + (halfThePeak ? " (half the peak)" : "")
                + ", " + PRODUCERS + " producers, every ack checked";
        List<BenchRow> rows = new ArrayList<>();
        rows.add(row(test, "HAProxy -> relays", ackedLoad((i, perProducer, latency) -> new RespProducer(i,
                "127.0.0.1", relaysPort, "bench:acked", perProducer, Long.MAX_VALUE, latency))));
        RedissonClient direct = redisson(group.sentinelAddresses());
        try {
            rows.add(row(test, "master (direct Redisson, Sentinel)", ackedLoad((i, perProducer, latency) ->
                    new RedissonProducer(i, direct, "bench:acked", perProducer, Long.MAX_VALUE, latency))));
        } finally {
            direct.shutdown();
        }
        int masterPort = group.awaitHealthy(Duration.ofSeconds(10)).port();
        rows.add(row(test, "master (direct Jedis)", ackedLoad((i, perProducer, latency) -> new RespProducer(i,
                "127.0.0.1", masterPort, "bench:acked", perProducer, Long.MAX_VALUE, latency))));
        return rows;
    }

    /** Makes producer {@code id} sending {@code rate} msg/s and recording into {@code latency}. */
    private interface ProducerFactory {
        Producer create(int id, int rate, LatencyRecorder latency);
    }

    /** What one target's run measured. */
    private record Measured(double perSecond, double p50, double p99, double p999, CpuUse cpu) {}

    private static BenchRow row(String test, String target, Measured r) {
        System.out.printf("  %s  %-36s acked %8.0f msg/s  p50 %.2f  p99 %.2f  p999 %.2f ms  CPU %.1f µs/msg%n", test,
                target, r.perSecond(), r.p50(), r.p99(), r.p999(), r.cpu().totalMicrosPerMessage());
        return new BenchRow(test, target, r.perSecond(), r.p50(), r.p99(), r.p999(), "", BenchRow.Role.NONE, r.cpu());
    }

    /**
     * The producers at {@code offered} in all, one message in flight each: acked/s, p50, p99 and
     * p999 ms, and the CPU time from their start until the last has stopped.
     */
    private Measured ackedLoad(ProducerFactory producer) throws InterruptedException {
        CpuAccounting.Sample before = cpu.start();
        LatencyRecorder latency = new LatencyRecorder();
        List<Producer> producers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < PRODUCERS; i++) {
            Producer p = producer.create(i, Math.max(1, offered / PRODUCERS), latency);
            p.prefix("bench:");
            producers.add(p);
            Thread t = new Thread(p);
            t.start();
            threads.add(t);
        }
        long start = System.nanoTime();
        TimeUnit.SECONDS.sleep(seconds);
        producers.forEach(Producer::stop);
        for (Thread t : threads) {
            t.join(30_000);
        }
        double secs = (System.nanoTime() - start) / 1e9;
        long acked = producers.stream().mapToLong(p -> p.acked().size()).sum();
        CpuUse use = cpu.stop(before, acked, CpuAccounting.LoadGenerator.THIS_JVM, "bench JVM");
        double[] q = latency.percentiles(Producer.Phase.STEADY);
        return new Measured(acked / secs, q[0], q[1], q[2], use);
    }

    /** A Sentinel-aware Redisson client, as an application writing to Redis directly would use. */
    private static RedissonClient redisson(List<String> sentinels) {
        Config c = new Config();
        SentinelServersConfig s = c.useSentinelServers().setMasterName(SentinelGroup.MASTER_NAME)
                .setCheckSentinelsList(false);
        sentinels.forEach(a -> s.addSentinelAddress("redis://" + a));
        return Redisson.create(c);
    }
}
