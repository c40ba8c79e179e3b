package dev.spillway.chaos.bench;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.Message;
import dev.spillway.relay.net.Transport;
import dev.spillway.relay.sink.RedisSink;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.sink.WriteGate;
import dev.spillway.relay.sink.WriteResult;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What one relay batch costs the master, by batch size: the relay's own sink writes batches of
 * N 100-byte messages one after another from a single connection, as a relay does with one batch
 * in flight, on its own connection to the master — the write script by {@code EVALSHA}, then
 * {@code WAIT} for every replica and {@code ROLE} — and the master's CPU time is divided by the batches.
 * This is the curve that decides the master's CPU per message behind relays: the fixed part per
 * batch (mostly {@code WAIT}'s passes of Redis's event loop) over the messages a batch holds.
 *
 * <p>The CPU figures of these rows are per batch, not per message; each size is checked to have
 * landed whole.
 */
public final class BatchCostScenario {

    /** The list the batches fill (emptied after each size). */
    static final String KEY = "spillway:bench:batch-cost";

    /** The batch sizes of the default bench. */
    public static final List<Integer> DEFAULT_SIZES = List.of(1, 6, 17, 50, 200);

    private final SentinelGroup group;
    private final List<Integer> sizes;
    private final int batches;
    private final CpuAccounting cpu;

    /** @param batches written for each size */
    public BatchCostScenario(SentinelGroup group, List<Integer> sizes, int batches, CpuAccounting cpu) {
        this.group = group;
        this.sizes = List.copyOf(sizes);
        this.batches = batches;
        this.cpu = cpu;
    }

    /** The test column of the rows. */
    public static String test() {
        return "one relay batch at a time (EVALSHA + WAIT all + ROLE), CPU per batch";
    }

    public List<BenchRow> run() throws IOException, InterruptedException {
        SinkConfig config = SinkConfig.builder().sentinels(group.sentinelAddresses()).build();
        EventLoopGroup loop = Transport.get().newGroup(1);
        try (RedisSink sink = new RedisSink(loop, config, new MetricRegistry(), "bench")) {
            Node master = group.awaitHealthy(Duration.ofSeconds(10));
            String runId = field(master.cli("INFO", "server"), "run_id");
            int replicas = Integer.parseInt(field(master.cli("INFO", "replication"), "connected_slaves"));
            // what an open write gate says: this master, its run id, its replicas
            WriteGate.State gate = new WriteGate.State(true, 1, master.address(), runId, replicas, "bench");
            long instance = new SecureRandom().nextLong() & Long.MAX_VALUE;
            long sequence = 0;
            byte[] key = KEY.getBytes(StandardCharsets.US_ASCII);
            byte[] value = "v".repeat(100).getBytes(StandardCharsets.US_ASCII);
            List<BenchRow> rows = new ArrayList<>();
            for (int size : sizes) {
                for (int warm = 0; warm < Math.min(200, batches); warm++) { // the script cached, the JIT warm
                    sequence = write(sink, gate, instance, sequence, size, key, value);
                }
                master.cli("DEL", KEY);
                CpuAccounting.Sample before = cpu.start();
                long start = System.nanoTime();
                for (int b = 0; b < batches; b++) {
                    sequence = write(sink, gate, instance, sequence, size, key, value);
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                CpuUse use = cpu.stop(before, batches, CpuAccounting.LoadGenerator.THIS_JVM, "bench JVM");
                String length = master.cli("LLEN", KEY);
                if (!length.equals(String.valueOf((long) batches * size))) {
                    throw new IOException("after " + batches + " batches of " + size + " the list holds " + length
                            + " messages, not " + (long) batches * size);
                }
                master.cli("DEL", KEY);
                double masterPerBatch = use.processes().stream().filter(p -> p.role().equals("master"))
                        .mapToDouble(CpuUse.Process::microsPerMessage).sum();
                System.out.printf("  %3d messages per batch: %6.0f batches/s  master %.0f µs per batch, %.1f µs per "
                        + "message%n", size, batches / seconds, masterPerBatch, masterPerBatch / size);
                rows.add(new BenchRow(test(), size + (size == 1 ? " message" : " messages") + " per batch",
                        batches / seconds, Double.NaN, Double.NaN, Double.NaN,
                        String.format("master %.0f µs per batch, %.1f µs per message", masterPerBatch,
                                masterPerBatch / size), BenchRow.Role.NONE, use));
            }
            master.cli("DEL", sink.highWaterKey(instance));
            return rows;
        } finally {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private static long write(RedisSink sink, WriteGate.State gate, long instance, long sequence, int size, byte[] key,
            byte[] value) throws IOException {
        List<Message> batch = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            batch.add(new Message(instance, sequence + i, Message.ListOp.RPUSH, key, value));
        }
        WriteResult r;
        try {
            r = sink.writeAsync(batch, gate, false).toCompletableFuture().join();
        } catch (RuntimeException e) {
            throw new IOException("a batch of " + size + " failed: " + e.getMessage(), e);
        }
        if (r.applied() != size) {
            throw new IOException("a batch of " + size + " applied " + r.applied() + ": " + r);
        }
        return sequence + size;
    }

    private static String field(String info, String name) throws IOException {
        return info.lines().filter(l -> l.startsWith(name + ":")).map(l -> l.substring(name.length() + 1).trim())
                .findFirst().orElseThrow(() -> new IOException("INFO has no " + name));
    }
}
