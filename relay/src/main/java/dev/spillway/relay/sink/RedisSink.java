package dev.spillway.relay.sink;

import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.spillway.relay.Message;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.redisson.api.BatchOptions;
import org.redisson.api.BatchResult;
import org.redisson.api.RBatch;
import org.redisson.api.RFuture;
import org.redisson.api.RScript;
import org.redisson.client.codec.ByteArrayCodec;

/**
 * Writes batches of messages to the Redis master, idempotently, and reports success only when
 * the ack policy holds.
 *
 * <h2>Idempotence: a high-water mark per relay incarnation</h2>
 * Every message id is (instance, sequence); one relay incarnation hands out sequences in
 * order and its write path applies them in order (one batch in flight, replay in log order).
 * For each run of messages from one incarnation, one Lua script — atomic on the master —
 * reads the incarnation's high-water mark {@code <prefix><instance>}, pushes only messages
 * whose sequence is above it (consecutive messages for one list in a single RPUSH/LPUSH),
 * stores the new mark and refreshes its TTL. Replaying a batch
 * whose first attempt did land therefore pushes nothing twice. The mark replicates with the
 * lists it guards, so a promoted replica has the mark that matches its data.
 *
 * <p>Memory cost in Redis: one string key (about 100 bytes) per relay incarnation written in
 * the last {@code sink.dedupeTtl} (7 days by default), independent of message volume. The TTL
 * must exceed the longest time a message can wait in a spill log before replay; if a relay
 * stays down longer, its replay may re-push messages that had landed but were not committed.
 * Sequences are compared as Lua numbers (doubles): exact up to 2^53 per incarnation.
 *
 * <h2>Ack policy</h2>
 * With {@code sink.minReplicas} = N > 0, the batch ends with {@code WAIT N timeout} on the same
 * connection; fewer confirmations throw {@link ReplicationShortfallException}. The master's
 * {@code min-replicas-to-write} additionally makes an isolated old master refuse writes.
 *
 * <p>Thread-safe, but the idempotence argument needs callers to write one batch at a time in
 * sequence order; the router does.
 */
public final class RedisSink {

    /**
     * KEYS[1] the incarnation's high-water mark; ARGV[1] its TTL in seconds; ARGV[2] the number of
     * runs; then per run: op, key, count n, first sequence, and n values. A run is a stretch of
     * messages for one key and op with consecutive sequences, so the already-applied ones are a
     * prefix of it, and the rest go out in one RPUSH/LPUSH (in chunks, below Lua's stack limit).
     */
    static final String SCRIPT = """
            local hw = tonumber(redis.call('GET', KEYS[1]) or '-1')
            local applied, skipped = 0, 0
            local i = 3
            for _ = 1, tonumber(ARGV[2]) do
              local op, key, n, first = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
              local skip = math.min(n, math.max(0, hw - first + 1))
              local from, to = i + 4 + skip, i + 3 + n
              while from <= to do
                local last = math.min(to, from + 999)
                redis.call(op, key, unpack(ARGV, from, last))
                from = last + 1
              end
              applied, skipped = applied + n - skip, skipped + skip
              hw = math.max(hw, first + n - 1)
              i = i + 4 + n
            end
            redis.call('SET', KEYS[1], hw, 'EX', ARGV[1])
            return {applied, skipped}
            """;

    private static final byte[] RPUSH = "RPUSH".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LPUSH = "LPUSH".getBytes(StandardCharsets.US_ASCII);

    private final RedisConnector redis;
    private final SinkConfig config;
    private final BatchOptions batchOptions;
    private final byte[] ttlSeconds;
    private final Timer writeTimer;
    private final Histogram batchSize;
    private final Meter applied;
    private final Meter deduped;

    public RedisSink(RedisConnector redis, SinkConfig config, MetricRegistry metrics) {
        this.redis = redis;
        this.config = config;
        BatchOptions options = BatchOptions.defaults()
                .executionMode(BatchOptions.ExecutionMode.IN_MEMORY)
                .retryAttempts(0) // retries are resilience4j's, inside the breaker
                .responseTimeout(config.timeout().toMillis(), TimeUnit.MILLISECONDS);
        if (config.minReplicas() > 0) {
            options = options.sync(config.minReplicas(), config.waitTimeout());
        }
        this.batchOptions = options;
        this.ttlSeconds = ascii(config.dedupeTtl().toSeconds());
        this.writeTimer = metrics.timer(MetricRegistry.name(RedisSink.class, "write"));
        this.batchSize = metrics.histogram(MetricRegistry.name(RedisSink.class, "batch-size"));
        this.applied = metrics.meter(MetricRegistry.name(RedisSink.class, "applied"));
        this.deduped = metrics.meter(MetricRegistry.name(RedisSink.class, "deduped"));
    }

    /** The key holding the high-water mark of one relay incarnation. */
    public String highWaterKey(long instance) {
        return config.dedupeKeyPrefix() + Long.toHexString(instance);
    }

    /**
     * Writes {@code batch} (in order) and returns once the master applied it and the ack policy
     * holds; throws otherwise, in which case the batch may or may not have been applied.
     */
    public WriteResult write(List<Message> batch) {
        try {
            return writeAsync(batch).toCompletableFuture().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    /**
     * Sends {@code batch} (in order) without waiting: the stage completes once the master applied
     * it and the ack policy holds, or exceptionally, in which case the batch may or may not have
     * been applied. It completes on a Redisson I/O thread, so what runs after it must not block.
     */
    public CompletionStage<WriteResult> writeAsync(List<Message> batch) {
        if (batch.isEmpty()) {
            return CompletableFuture.completedFuture(new WriteResult(0, 0));
        }
        long start = System.nanoTime();
        List<RFuture<List<Number>>> runs = new ArrayList<>();
        RFuture<BatchResult<?>> sent;
        try {
            RBatch rb = redis.client().createBatch(batchOptions);
            int from = 0;
            while (from < batch.size()) {
                long instance = batch.get(from).instance();
                int to = from;
                while (to < batch.size() && batch.get(to).instance() == instance) {
                    to++;
                }
                runs.add(rb.getScript(ByteArrayCodec.INSTANCE).evalAsync(RScript.Mode.READ_WRITE, SCRIPT,
                        RScript.ReturnType.LIST, List.of(highWaterKey(instance)), scriptArgs(batch, from, to)));
                from = to;
            }
            sent = rb.executeAsync();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return sent.thenApply(result -> {
            if (config.minReplicas() > 0 && result.getSyncedSlaves() < config.minReplicas()) {
                throw new ReplicationShortfallException(result.getSyncedSlaves(), config.minReplicas());
            }
            int pushed = 0;
            int skipped = 0;
            for (RFuture<List<Number>> run : runs) {
                List<Number> counts = run.toCompletableFuture().join(); // done: the batch is
                pushed += counts.get(0).intValue();
                skipped += counts.get(1).intValue();
            }
            writeTimer.update(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            batchSize.update(batch.size());
            applied.mark(pushed);
            deduped.mark(skipped);
            return new WriteResult(pushed, skipped);
        });
    }

    /** The script's arguments for {@code batch[from, to)}, all of one incarnation: TTL, run count, runs. */
    private Object[] scriptArgs(List<Message> batch, int from, int to) {
        List<Object> args = new ArrayList<>(2 + 5 * (to - from));
        args.add(ttlSeconds);
        args.add(null); // the number of runs, filled in below
        int runCount = 0;
        int r = from;
        while (r < to) {
            Message first = batch.get(r);
            int e = r + 1;
            while (e < to && batch.get(e).op() == first.op() && Arrays.equals(batch.get(e).key(), first.key())
                    && batch.get(e).sequence() == first.sequence() + (e - r)) {
                e++;
            }
            args.add(first.op() == Message.ListOp.RPUSH ? RPUSH : LPUSH);
            args.add(first.key());
            args.add(ascii(e - r));
            args.add(ascii(first.sequence()));
            for (int k = r; k < e; k++) {
                args.add(batch.get(k).value());
            }
            runCount++;
            r = e;
        }
        args.set(1, ascii(runCount));
        return args.toArray();
    }

    private static byte[] ascii(long v) {
        return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
    }
}
