package dev.spillway.relay.sink;

import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.spillway.relay.Message;
import dev.spillway.relay.metrics.BucketTimer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
 * With {@code sink.ack.minReplicas} = N > 0, the batch ends with {@code WAIT N timeout} on the same
 * connection; fewer confirmations throw {@link ReplicationShortfallException}. The master's
 * {@code min-replicas-to-write} additionally makes an isolated old master refuse writes.
 *
 * <p>Thread-safe, but the idempotence argument needs callers to write one batch at a time in
 * sequence order; the router does.
 */
public final class RedisSink {

    /**
     * KEYS[1] the incarnation's high-water mark, KEYS[2] the dead-letter list. ARGV[1] the mark's
     * TTL in seconds; ARGV[2] the run id of the master the Sentinels name ('' = no check);
     * ARGV[3] 'd' for direct writes (not yet acknowledged: a refused run stops the script and is
     * reported) or 'r' for replay (acknowledged: a refused run goes to the dead-letter list);
     * ARGV[4] the relay's name for dead-letter entries; ARGV[5] '1' to count the master's online
     * replicas; ARGV[6] the number of runs; then per run: op, key, count n, first sequence, and
     * n values. A run is a stretch of messages for one key and op with consecutive sequences, so
     * the already-applied ones are a prefix of it, and the rest go out in one RPUSH/LPUSH (in
     * chunks, below Lua's stack limit).
     *
     * <p>Returns {applied, skipped, dead-lettered, online replicas (-1 = not counted)}, and for a
     * refused run in a direct write also {first refused sequence, count, error}.
     *
     * <p>The mark always equals the last sequence applied (or dead-lettered): every write is a
     * {@code pcall}, and on an error the mark is stored for what was done before the error is
     * returned, so a replay of the batch never pushes a message twice. (Redis 7 does not refuse
     * later writes of a script for OOM once its first write has succeeded.) Errors are sorted:
     * those about Redis's state (OOM, NOREPLICAS, READONLY, MISCONF, BUSY, LOADING, MASTERDOWN,
     * TRYAGAIN, NOSCRIPT) fail the batch — it is spilled and retried; any other error of a run's
     * key — WRONGTYPE found by checking the key's type before the push, an ACL user's NOPERM —
     * is about the message, and a retry cannot fix it: the run is refused (direct) or
     * dead-lettered (replay), and the messages behind it are not held back.
     */
    static final String SCRIPT = """
            local function fail(hw, err)
              redis.pcall('SET', KEYS[1], hw, 'EX', ARGV[1])
              return redis.error_reply(err)
            end
            local function transient(err)
              for _, p in ipairs({'OOM', 'NOREPLICAS', 'READONLY', 'MISCONF', 'BUSY', 'LOADING', 'MASTERDOWN',
                  'TRYAGAIN', 'NOSCRIPT', 'CLUSTERDOWN'}) do
                if string.sub(err, 1, #p) == p then return true end
              end
              return false
            end
            if ARGV[2] ~= '' then
              local id = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
              if id ~= ARGV[2] then
                return redis.error_reply('SPILLWAY-FENCE this node (run id ' .. tostring(id)
                  .. ') is not the master the Sentinels name (run id ' .. ARGV[2] .. ')')
              end
            end
            local online = -1
            if ARGV[5] == '1' then
              online = 0
              for _ in string.gmatch(redis.call('INFO', 'replication'), 'slave%d+:[^\\r\\n]*state=online') do
                online = online + 1
              end
            end
            local g = redis.pcall('GET', KEYS[1])
            if type(g) == 'table' and g['err'] then
              return redis.error_reply('SPILLWAY-MARK high-water mark ' .. KEYS[1] .. ': ' .. g['err'])
            end
            local hw = tonumber(g or '-1')
            local applied, skipped, dead = 0, 0, 0
            local i = 7
            for _ = 1, tonumber(ARGV[6]) do
              local op, key, n, first = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
              local skip = math.min(n, math.max(0, hw - first + 1))
              local from, to = i + 4 + skip, i + 3 + n
              if from <= to then
                local err = nil
                local t = redis.pcall('TYPE', key)
                if type(t) == 'table' and t['err'] then
                  err = t['err']
                elseif t['ok'] ~= 'none' and t['ok'] ~= 'list' then
                  err = 'WRONGTYPE Operation against a key holding the wrong kind of value'
                end
                while err == nil and from <= to do
                  local last = math.min(to, from + 999)
                  local r = redis.pcall(op, key, unpack(ARGV, from, last))
                  if type(r) == 'table' and r['err'] then
                    if transient(r['err']) then
                      return fail(hw, r['err'])
                    end
                    err = r['err']
                  else
                    applied = applied + last - from + 1
                    hw = first + last - (i + 4)
                    from = last + 1
                  end
                end
                if err ~= nil then
                  if ARGV[3] == 'd' then
                    redis.pcall('SET', KEYS[1], hw, 'EX', ARGV[1])
                    return {applied, skipped, dead, online, first + from - (i + 4), to - from + 1, err}
                  end
                  local now = redis.call('TIME')
                  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
                  for k = from, to do
                    local entry = cjson.encode({key = key, op = op, value = ARGV[k], error = err,
                      relay = ARGV[4], sequence = first + k - (i + 4), time = ms})
                    local r = redis.pcall('RPUSH', KEYS[2], entry)
                    if type(r) == 'table' and r['err'] then
                      return fail(hw, 'SPILLWAY-DEAD-LETTER cannot push to ' .. KEYS[2] .. ': ' .. r['err'])
                    end
                    hw = first + k - (i + 4)
                    dead = dead + 1
                  end
                end
              end
              skipped = skipped + skip
              hw = math.max(hw, first + n - 1)
              i = i + 4 + n
            end
            redis.call('SET', KEYS[1], hw, 'EX', ARGV[1])
            return {applied, skipped, dead, online}
            """;

    /** The script's SHA-1, as {@code EVALSHA} names it. */
    static final String SCRIPT_SHA1 = sha1Hex(SCRIPT);

    private static final byte[] RPUSH = "RPUSH".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LPUSH = "LPUSH".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DIRECT = {'d'};
    private static final byte[] REPLAY = {'r'};
    private static final byte[] ONE = {'1'};
    private static final byte[] ZERO = {'0'};

    private final RedisConnector redis;
    private final SinkConfig config;
    private final BatchOptions noWait;
    private final byte[] ttlSeconds;
    private final byte[] relayName;
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
        this.ttlSeconds = ascii(config.dedupeTtl().toSeconds());
        this.relayName = relayName.getBytes(StandardCharsets.UTF_8);
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
            args.add(scriptArgs(batch, from, to, runId, replay, all));
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
            var script = rb.getScript(ByteArrayCodec.INSTANCE);
            scripts.add(text
                    ? script.evalAsync(RScript.Mode.READ_WRITE, SCRIPT, RScript.ReturnType.LIST, keys, args.get(k))
                    : script.evalShaAsync(RScript.Mode.READ_WRITE, SCRIPT_SHA1, RScript.ReturnType.LIST, keys,
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

    /** The script's arguments for {@code batch[from, to)}, all of one incarnation; see {@link #SCRIPT}. */
    private Object[] scriptArgs(List<Message> batch, int from, int to, byte[] runId, boolean replay,
            boolean countOnline) {
        List<Object> args = new ArrayList<>(5 + 5 * (to - from));
        args.add(ttlSeconds);
        args.add(runId);
        args.add(replay ? REPLAY : DIRECT);
        args.add(relayName);
        args.add(countOnline ? ONE : ZERO);
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
        args.set(5, ascii(runCount));
        return args.toArray();
    }

    private static String sha1Hex(String text) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is a required JDK algorithm", e);
        }
    }

    private static byte[] ascii(long v) {
        return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
    }
}
