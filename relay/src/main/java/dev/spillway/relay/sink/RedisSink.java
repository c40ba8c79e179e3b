package dev.spillway.relay.sink;

import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.spillway.relay.Message;
import dev.spillway.relay.metrics.BucketTimer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.redisson.api.BatchOptions;
import org.redisson.api.BatchResult;
import org.redisson.api.RBatch;
import org.redisson.api.RFuture;
import org.redisson.api.RScript;
import org.redisson.client.RedisNoScriptException;
import org.redisson.client.codec.ByteArrayCodec;

/**
 * Writes batches of messages to the Redis master, idempotently, and reports success only when
 * the ack policy holds.
 *
 * <h2>Idempotence: a high-water mark per relay incarnation</h2>
 * Every message id is (instance, sequence); one relay incarnation hands out sequences in
 * order and its write path applies them in order (one batch in flight, replay in log order).
 * For each run of messages from one incarnation, one Lua script ({@link WriteScript}) — atomic on the master —
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
 * With {@code sink.ack.minReplicas} = N > 0, the batch ends with {@code WAIT N timeout} on the same
 * connection; fewer confirmations throw {@link ReplicationShortfallException}. The master's
 * {@code min-replicas-to-write} additionally makes an isolated old master refuse writes.
 *
 * <p>Thread-safe, but the idempotence argument needs callers to write one batch at a time in
 * sequence order; the router does.
 */
public final class RedisSink {


    private final RedisConnector redis;
    private final SinkConfig config;
    private final BatchOptions noWait;
    private final WriteScript script;
    private final Timer writeTimer;
    private final Histogram batchSize;
    private final Meter applied;
    private final Meter deduped;
    private final Meter refused;
    private final Meter noScript;
    /** The master's online replicas as the last write's script counted them ({@code minReplicas: all}). */
    private volatile OnlineReplicas onlineSeen;

    private record OnlineReplicas(String runId, int count) {}

    public RedisSink(RedisConnector redis, SinkConfig config, MetricRegistry metrics) {
        this(redis, config, metrics, "relay");
    }

    /** @param relayName names this relay in dead-letter entries */
    public RedisSink(RedisConnector redis, SinkConfig config, MetricRegistry metrics, String relayName) {
        this.redis = redis;
        this.config = config;
        this.noWait = BatchOptions.defaults()
                .executionMode(BatchOptions.ExecutionMode.IN_MEMORY)
                .retryAttempts(0) // retries are resilience4j's, inside the breaker
                .responseTimeout(config.timeout().toMillis(), TimeUnit.MILLISECONDS);
        this.script = new WriteScript(config.dedupeTtl(), relayName);
        this.writeTimer = metrics.timer(MetricRegistry.name(RedisSink.class, "write"), BucketTimer::latency);
        this.batchSize = metrics.histogram(MetricRegistry.name(RedisSink.class, "batch-size"));
        this.applied = metrics.meter(MetricRegistry.name(RedisSink.class, "applied"));
        this.deduped = metrics.meter(MetricRegistry.name(RedisSink.class, "deduped"));
        this.refused = metrics.meter("spillway.redis.refused-messages");
        this.noScript = metrics.meter(MetricRegistry.name(RedisSink.class, "script-reloads"));
    }

    /** The key holding the high-water mark of one relay incarnation. */
    public String highWaterKey(long instance) {
        return config.dedupeKeyPrefix() + Long.toHexString(instance);
    }

    /**
     * Writes {@code batch} (in order) and returns once the master applied it and the ack policy
     * holds; throws otherwise, in which case the batch may or may not have been applied.
     * Without a gate: no run-id check, WAIT for {@code minReplicas} (all = 1 here). For tests
     * and tools.
     */
    public WriteResult write(List<Message> batch, boolean replay) {
        return Stages.join(writeAsync(batch, null, replay));
    }

    /**
     * Sends {@code batch} (in order) without waiting: the stage completes once the master applied
     * it and the ack policy holds, or exceptionally, in which case the batch may or may not have
     * been applied. It completes on a Redisson I/O thread, so what runs after it must not block.
     *
     * @param gate the write gate's state at send: the script checks that the node it runs on has
     *     the run id the Sentinels name, and {@code minReplicas: all} waits for the replicas
     *     they list as healthy; null for no check (tests)
     * @param replay true for acknowledged messages from the spill (a message Redis refuses goes
     *     to the dead-letter list), false for direct writes (it is reported in the result, and
     *     the messages behind it in the batch are not sent)
     */
    public CompletionStage<WriteResult> writeAsync(List<Message> batch, WriteGate.State gate, boolean replay) {
        if (batch.isEmpty()) {
            return CompletableFuture.completedFuture(new WriteResult(0, 0));
        }
        long start = System.nanoTime();
        boolean all = config.minReplicas() == SinkConfig.ALL_REPLICAS;
        OnlineReplicas seen = onlineSeen;
        int onlineBefore = all && gate != null && seen != null && seen.runId.equals(gate.runId()) ? seen.count : 0;
        int replicas = config.waitsForReplicas()
                ? config.replicasToWaitFor(Math.max(gate == null ? 0 : gate.replicas(), onlineBefore)) : 0;
        byte[] runId = gate == null ? new byte[0] : gate.runId().getBytes(StandardCharsets.US_ASCII);
        List<Long> instances = new ArrayList<>();
        List<Object[]> args = new ArrayList<>();
        int from = 0;
        while (from < batch.size()) {
            long instance = batch.get(from).instance();
            int to = from;
            while (to < batch.size() && batch.get(to).instance() == instance) {
                to++;
            }
            instances.add(instance);
            args.add(script.args(batch, from, to, runId, replay, all));
            from = to;
        }
        List<RFuture<List<Object>>> scripts = new ArrayList<>(args.size());
        CompletionStage<BatchResult<?>> sent;
        try {
            sent = send(instances, args, replicas, scripts, false).handle((r, e) -> {
                if (e == null) {
                    return CompletableFuture.<BatchResult<?>>completedFuture(r);
                }
                if (!isNoScript(e)) {
                    return CompletableFuture.<BatchResult<?>>failedFuture(e);
                }
                // the master does not have the script (a promoted replica, a restart, SCRIPT FLUSH):
                // EVALSHA ran nothing, so the batch goes again with the script's text, which caches it
                scripts.clear();
                noScript.mark();
                return send(instances, args, replicas, scripts, true);
            }).thenCompose(s -> s);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        return sent.thenApply(result -> {
            int online = all ? ((Number) scripts.get(0).toCompletableFuture().join().get(3)).intValue() : -1;
            if (gate != null && online >= 0) {
                onlineSeen = new OnlineReplicas(gate.runId(), online);
            }
            if (replicas > 0 && result.getSyncedSlaves() < replicas) {
                throw new ReplicationShortfallException(result.getSyncedSlaves(), replicas);
            }
            if (result.getSyncedSlaves() < online) {
                // 'all' means every replica attached to the master, also one the Sentinels do not
                // list (yet): otherwise its confirmation could stand in for the one Sentinel promotes.
                // The next batch waits for them all.
                throw new ReplicationShortfallException(result.getSyncedSlaves(), online);
            }
            int pushed = 0;
            int skipped = 0;
            int dead = 0;
            WriteResult.Refusal refusal = null;
            for (int k = 0; k < scripts.size(); k++) {
                List<Object> r = scripts.get(k).toCompletableFuture().join(); // done: the batch is
                pushed += ((Number) r.get(0)).intValue();
                skipped += ((Number) r.get(1)).intValue();
                dead += ((Number) r.get(2)).intValue();
                if (r.size() >= 7 && refusal == null) {
                    refusal = new WriteResult.Refusal(instances.get(k), ((Number) r.get(4)).longValue(),
                            ((Number) r.get(5)).intValue(), new String((byte[]) r.get(6), StandardCharsets.UTF_8));
                    refused.mark(refusal.count());
                }
            }
            writeTimer.update(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            batchSize.update(batch.size());
            applied.mark(pushed);
            deduped.mark(skipped);
            return new WriteResult(pushed, skipped, dead, refusal);
        });
    }

    /**
     * One Redisson batch: the script once per incarnation ({@code EVALSHA}, or {@code EVAL} with
     * its text when {@code text}), then {@code WAIT replicas} when {@code replicas > 0}; the
     * scripts' futures are added to {@code scripts} in order.
     */
    private CompletionStage<BatchResult<?>> send(List<Long> instances, List<Object[]> args, int replicas,
            List<RFuture<List<Object>>> scripts, boolean text) {
        RBatch rb = redis.client().createBatch(replicas > 0 ? noWait.sync(replicas, config.waitTimeout()) : noWait);
        for (int k = 0; k < args.size(); k++) {
            List<Object> keys = List.of(highWaterKey(instances.get(k)), config.deadLetterKey());
            var lua = rb.getScript(ByteArrayCodec.INSTANCE);
            scripts.add(text
                    ? lua.evalAsync(RScript.Mode.READ_WRITE, WriteScript.TEXT, RScript.ReturnType.LIST, keys, args.get(k))
                    : lua.evalShaAsync(RScript.Mode.READ_WRITE, WriteScript.SHA1, RScript.ReturnType.LIST, keys,
                            args.get(k)));
        }
        return rb.executeAsync();
    }

    /** True when Redis answered that it does not have the script ({@code EVALSHA}'s NOSCRIPT). */
    static boolean isNoScript(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RedisNoScriptException) {
                return true;
            }
        }
        return false;
    }

}
