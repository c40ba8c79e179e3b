package dev.spillway.relay.sink;

import com.codahale.metrics.Histogram;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.spillway.relay.Message;
import dev.spillway.relay.metrics.BucketTimer;
import io.netty.buffer.ByteBuf;
import dev.spillway.relay.net.Transport;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import io.netty.util.concurrent.ScheduledFuture;

/**
 * Writes batches of messages to the Redis master, idempotently, and reports success only when
 * the ack policy holds.
 *
 * <h2>One request per batch</h2>
 * A batch goes out on the relay's connection to the master the write gate names
 * ({@link MasterLink}, proven to be that node when it opened) as one pipelined request: the
 * write script once per relay incarnation in the batch ({@code EVALSHA}), then
 * {@code WAIT n timeout} when replicas must confirm, then {@code ROLE} under
 * {@code minReplicas: all}. The master runs the scripts at once, answers {@code WAIT} when the
 * replicas have confirmed, and {@code ROLE} in the same step, so the replicas {@code ROLE}
 * lists as online are the ones {@code WAIT} counted: a batch counts as written only if
 * {@code WAIT} counted at least as many. On {@code NOSCRIPT} the same request goes again with the
 * script's text ({@code EVAL}), which caches it.
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
 * With {@code sink.ack.minReplicas} = N > 0, fewer confirmations than N throw
 * {@link ReplicationShortfallException}; under {@code all}, so do fewer than the master has
 * online. The master's {@code min-replicas-to-write} additionally makes an isolated old master
 * refuse writes.
 *
 * <p>Thread-safe, but the idempotence argument needs callers to write one batch at a time in
 * sequence order; the router does.
 */
public final class RedisSink implements Closeable {

    private static final byte[] WAIT = "WAIT".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ROLE = "ROLE".getBytes(StandardCharsets.US_ASCII);

    private final EventLoopGroup group;
    private final SinkConfig config;
    private final WriteScript script;
    private final byte[] deadLetterKey;
    private final byte[] waitTimeoutMillis;
    private final Timer writeTimer;
    private final Histogram batchSize;
    private final Meter applied;
    private final Meter deduped;
    private final Meter refused;
    private final Meter noScript;
    private final Meter connections;
    /** The master's online replicas as the last write's {@code ROLE} counted them ({@code minReplicas: all}). */
    private volatile OnlineReplicas onlineSeen;

    private final Object linkLock = new Object();
    private MasterLink link; // guarded by linkLock: the open connection, if any
    private CompletableFuture<MasterLink> opening; // guarded by linkLock
    private String openingFor; // guarded by linkLock: "address runId" of opening
    private boolean closed; // guarded by linkLock
    private ScheduledFuture<?> reconnect; // guarded by linkLock: the one reconnect pending, if any
    private int failedOpens; // guarded by linkLock: in a row, for the reconnect's backoff
    private volatile WriteGate gate; // set by keepConnected
    private final ExecutorService resolver = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "redis-resolver");
        t.setDaemon(true);
        return t;
    });

    private record OnlineReplicas(String runId, int count) {}

    /**
     * @param group where the connection to the master does its I/O (the relay shares its
     *     producers' event loops with it: no hand-off between reading a message and writing it)
     * @param relayName names this relay in dead-letter entries
     */
    public RedisSink(EventLoopGroup group, SinkConfig config, MetricRegistry metrics, String relayName) {
        this.group = group;
        this.config = config;
        this.script = new WriteScript(config.dedupeTtl(), relayName);
        this.deadLetterKey = config.deadLetterKey().getBytes(StandardCharsets.UTF_8);
        this.waitTimeoutMillis = Long.toString(config.waitTimeout().toMillis()).getBytes(StandardCharsets.US_ASCII);
        this.writeTimer = metrics.timer(MetricRegistry.name(RedisSink.class, "write"), BucketTimer::latency);
        this.batchSize = metrics.histogram(MetricRegistry.name(RedisSink.class, "batch-size"));
        this.applied = metrics.meter(MetricRegistry.name(RedisSink.class, "applied"));
        this.deduped = metrics.meter(MetricRegistry.name(RedisSink.class, "deduped"));
        this.refused = metrics.meter("spillway.redis.refused-messages");
        this.noScript = metrics.meter(MetricRegistry.name(RedisSink.class, "script-reloads"));
        this.connections = metrics.meter("spillway.redis.connections-opened");
    }

    /** The key holding the high-water mark of one relay incarnation. */
    public String highWaterKey(long instance) {
        return config.dedupeKeyPrefix() + Long.toHexString(instance);
    }

    /** {@link #writeAsync}, waited for; its failure rethrown. For tests and tools. */
    public WriteResult write(List<Message> batch, WriteGate.State gate, boolean replay) {
        return Stages.join(writeAsync(batch, gate, replay));
    }

    /**
     * Sends {@code batch} (in order) without waiting: the stage completes once the master applied
     * it and the ack policy holds, or exceptionally, in which case the batch may or may not have
     * been applied. It completes on the connection's event loop, so what runs after it must not
     * block.
     *
     * @param gate the write gate's state at send: the batch goes only to the node it names (by
     *     address and run id), and {@code minReplicas: all} waits for the replicas it lists as
     *     healthy
     * @param replay true for acknowledged messages from the spill (a message Redis refuses goes
     *     to the dead-letter list), false for direct writes (it is reported in the result, and
     *     the messages behind it in the batch are not sent)
     */
    public CompletionStage<WriteResult> writeAsync(List<Message> batch, WriteGate.State gate, boolean replay) {
        if (batch.isEmpty()) {
            return CompletableFuture.completedFuture(new WriteResult(0, 0));
        }
        if (gate.master() == null || gate.runId() == null) {
            return CompletableFuture.failedFuture(new WriteGateException("write gate names no master: "
                    + gate.reason(), false));
        }
        long start = System.nanoTime();
        boolean all = config.minReplicas() == SinkConfig.ALL_REPLICAS;
        Request request = new Request(batch, replay, all);
        return send(gate, request, false).thenCompose(replies -> {
            if (!request.noScript(replies)) {
                return CompletableFuture.completedFuture(replies);
            }
            // the master does not have the script (a promoted replica, a restart, SCRIPT FLUSH):
            // EVALSHA ran nothing, so the request goes again with the script's text, which caches it
            noScript.mark();
            return send(gate, request, true);
        }).thenApply(replies -> settle(request, gate, replies, start));
    }

    private CompletableFuture<List<Object>> send(WriteGate.State at, Request request, boolean byText) {
        return linkFor(at).thenCompose(l -> {
            // the link may have taken a while to open: nothing goes out once the gate has moved
            WriteGate g = gate;
            if (g != null && !g.stillOpen(at.epoch())) {
                return CompletableFuture.failedFuture(new WriteGateException("write gate moved while the connection "
                        + "to the master opened: " + g.state().reason(), false));
            }
            // asked now, once the connection is open: its ROLE counted the replicas online when it opened
            request.replicas = replicasToWaitFor(at, request.all);
            long timeout = config.timeout().plus(request.replicas > 0 ? config.waitTimeout()
                    : java.time.Duration.ZERO).toNanos();
            return l.send(request.encode(Transport.allocator(), byText), request.replies(), timeout,
                    request.all ? fewestReplyBytes() : 1);
        });
    }

    /**
     * {@code minReplicas}, or under {@code all} every replica the Sentinels list as healthy and
     * every one the master had online at the last count on this run id (the last batch's
     * {@code ROLE}, or the connection's when it opened), whichever are more.
     */
    private int replicasToWaitFor(WriteGate.State at, boolean all) {
        if (!config.waitsForReplicas()) {
            return 0;
        }
        OnlineReplicas seen = onlineSeen;
        int onlineBefore = all && seen != null && seen.runId.equals(at.runId()) ? seen.count : 0;
        return config.replicasToWaitFor(Math.max(at.replicas(), onlineBefore));
    }

    private WriteResult settle(Request request, WriteGate.State gate, List<Object> replies, long start) {
        int pushed = 0;
        int skipped = 0;
        int dead = 0;
        WriteResult.Refusal refusal = null;
        for (int k = 0; k < request.groups(); k++) {
            if (replies.get(k) instanceof RedisErrorReply e) {
                throw e;
            }
        }
        int synced = request.replicas > 0 ? integer(replies.get(request.groups())) : 0;
        int online = -1;
        if (request.all) {
            java.util.Set<String> onlineNow = MasterLink.onlineReplicas(replies.get(replies.size() - 1), gate.master());
            online = onlineNow.size();
            onlineSeen = new OnlineReplicas(gate.runId(), online);
            for (String promotable : gate.promotable()) {
                if (!onlineNow.contains(promotable)) {
                    // it could be promoted, and it did not take this batch: a replica that does
                    // (one the Sentinels do not know) cannot stand in for it, whatever the count
                    throw new ReplicationShortfallException("the replica " + promotable
                            + " the Sentinels could promote is not online at the master (ROLE lists "
                            + new java.util.TreeSet<>(onlineNow) + ")");
                }
            }
        }
        if (request.replicas > 0 && synced < request.replicas) {
            throw new ReplicationShortfallException(synced, request.replicas);
        }
        if (synced < online) {
            // 'all' means every replica attached to the master, also one the Sentinels do not
            // list (yet): otherwise its confirmation could stand in for the one Sentinel promotes.
            // The next batch waits for them all.
            throw new ReplicationShortfallException(synced, online);
        }
        for (int k = 0; k < request.groups(); k++) {
            List<?> r = (List<?>) replies.get(k);
            pushed += integer(r.get(0));
            skipped += integer(r.get(1));
            dead += integer(r.get(2));
            if (r.size() >= 6 && refusal == null) {
                refusal = new WriteResult.Refusal(request.instance(k), ((Long) r.get(3)), integer(r.get(4)),
                        new String((byte[]) r.get(5), StandardCharsets.UTF_8));
                refused.mark(refusal.count());
            }
        }
        writeTimer.update(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        batchSize.update(request.batch.size());
        applied.mark(pushed);
        deduped.mark(skipped);
        return new WriteResult(pushed, skipped, dead, refusal);
    }

    private static int integer(Object reply) {
        if (reply instanceof Long n) {
            return n.intValue();
        }
        if (reply instanceof RedisErrorReply e) {
            throw e;
        }
        throw new IllegalStateException("expected an integer reply, got " + reply);
    }

    /**
     * The connection to the master {@code at} names, proven to have its run id: the open one, or
     * one being opened. A state the gate has moved on from gets no connection (and closes none):
     * only the gate's current master may replace the connection.
     */
    private CompletableFuture<MasterLink> linkFor(WriteGate.State at) {
        WriteGate g = gate;
        if (g != null && !g.stillOpen(at.epoch())) {
            return CompletableFuture.failedFuture(new WriteGateException("write gate moved: " + g.state().reason(),
                    false));
        }
        String address = at.master();
        String runId = at.runId();
        String wanted = address + " " + runId;
        MasterLink stale = null;
        CompletableFuture<MasterLink> f;
        synchronized (linkLock) {
            if (closed) {
                return CompletableFuture.failedFuture(new RedisLinkException("the Redis sink is closed", null));
            }
            // again under the lock: the gate's listeners take it too, after the gate moved, so a
            // state checked here cannot be older than one whose connection is already in place
            if (g != null && !g.stillOpen(at.epoch())) {
                return CompletableFuture.failedFuture(new WriteGateException("write gate moved: "
                        + g.state().reason(), false));
            }
            MasterLink l = link;
            if (l != null && l.isActive() && l.address().equals(address) && l.runId().equals(runId)) {
                return l.ready();
            }
            if (opening != null && wanted.equals(openingFor)) {
                return opening;
            }
            stale = l;
            link = null;
            f = new CompletableFuture<>();
            opening = f;
            openingFor = wanted;
        }
        if (stale != null) {
            stale.close(); // another node, or dead: a batch in flight on it fails, its outcome unknown
        }
        connections.mark();
        boolean all = config.minReplicas() == SinkConfig.ALL_REPLICAS;
        CompletableFuture<MasterLink> opens;
        try {
            opens = MasterLink.open(group, resolver, config, address, runId, all, fewestReplyBytes());
        } catch (RuntimeException e) { // the group or the resolver shut down under us: the sink is closing
            opens = CompletableFuture.failedFuture(new RedisLinkException("cannot open a connection to the master "
                    + address + ": " + e, e));
        }
        opens.whenComplete((opened, e) -> {
            boolean kept = false;
            synchronized (linkLock) {
                if (opening == f) {
                    opening = null;
                    openingFor = null;
                    if (opened != null && !closed) {
                        if (all) {
                            // before the link is seen: the first batch on it waits for every replica online now
                            onlineSeen = new OnlineReplicas(runId, opened.onlineAtOpen());
                        }
                        link = opened;
                        failedOpens = 0;
                        kept = true;
                    } else if (opened == null) {
                        failedOpens++;
                    }
                }
            }
            if (kept) {
                opened.onClose(this::reconnectSoon);
                f.complete(opened);
                return;
            }
            if (opened != null) {
                opened.close(); // superseded while it opened, or the sink closed
                f.completeExceptionally(new RedisLinkException("the connection to the master " + address
                        + " was superseded while it opened", null));
            } else {
                f.completeExceptionally(e);
                reconnectSoon();
            }
        });
        return f;
    }

    /**
     * Opens the connection to the master whenever the gate opens on one, and again after it
     * closes or cannot be made while the gate stays open — one attempt pending at a time, 100 ms
     * after a loss and backing off to 2 s while attempts fail — so that a batch rarely waits for it
     * and {@link #connected()} tells whether the master can be reached.
     */
    public void keepConnected(WriteGate gate) {
        this.gate = gate;
        gate.addListener(s -> {
            if (s.open()) {
                linkFor(s);
            }
        });
        WriteGate.State s = gate.state();
        if (s.open()) {
            linkFor(s);
        }
    }

    private void reconnectSoon() {
        WriteGate g = gate;
        if (g == null || group.isShuttingDown()) {
            return;
        }
        synchronized (linkLock) {
            if (closed || reconnect != null) {
                return;
            }
            long delay = Math.min(2000, 100L << Math.min(failedOpens, 5));
            delay += java.util.concurrent.ThreadLocalRandom.current().nextLong(delay / 4 + 1);
            reconnect = group.schedule(() -> {
                synchronized (linkLock) {
                    reconnect = null;
                    if (closed || opening != null || link != null && link.isActive()) {
                        return;
                    }
                }
                WriteGate.State s = g.state();
                if (s.open()) {
                    linkFor(s);
                }
            }, delay, TimeUnit.MILLISECONDS);
        }
    }

    /** True while a connection to the master is open (proven to be the node the gate named when it opened). */
    public boolean connected() {
        synchronized (linkLock) {
            return link != null && link.isActive();
        }
    }

    /**
     * How many bytes must have come before the connection wakes the relay for a batch's replies
     * ({@link MasterLink#send}): each piece of them the master writes on its own must reach it.
     * The master writes the scripts' replies as soon as they ran, and {@code WAIT}'s and
     * {@code ROLE}'s when the replicas confirmed, together ({@code ROLE} runs in the same step);
     * should {@code ROLE} run after a {@code WAIT} that answered at once, {@code ROLE}'s reply
     * comes alone, 24 bytes at least ({@code *3 $6 master :0 *0}; every error is longer). A
     * script's reply is 13 bytes plus the digits of its three counts ({@code *3 :n :0 :0}): 16 for
     * a batch of up to 9 messages, at most 20 for the default 1,000; with 20, a small batch's
     * script reply no longer wakes the relay a second time per batch (a larger one may, which
     * costs a wake, nothing else). Without {@code ROLE} ({@code minReplicas} a number or 0) the
     * last piece can be {@code WAIT}'s 4 bytes alone, and every reply wakes it.
     */
    private int fewestReplyBytes() {
        return config.minReplicas() == SinkConfig.ALL_REPLICAS ? 20 : 1;
    }

    /** Closes the connection to the master; later writes fail. */
    @Override
    public void close() {
        synchronized (linkLock) {
            closed = true;
            if (link != null) {
                link.close();
                link = null;
            }
            if (reconnect != null) {
                reconnect.cancel(false);
            }
        }
        resolver.shutdownNow();
    }

    /**
     * One batch as one request: the script per incarnation (a stretch of the batch), then
     * {@code WAIT} and {@code ROLE} as the ack policy asks.
     */
    private final class Request {
        final List<Message> batch;
        final boolean replay;
        final boolean all;
        int replicas; // WAIT's count, set when the request is written
        private final int[] bounds; // groups + 1 offsets into batch: group k is [bounds[k], bounds[k+1])

        Request(List<Message> batch, boolean replay, boolean all) {
            this.batch = batch;
            this.replay = replay;
            this.all = all;
            int groups = 1;
            for (int i = 1; i < batch.size(); i++) {
                if (batch.get(i).instance() != batch.get(i - 1).instance()) {
                    groups++;
                }
            }
            bounds = new int[groups + 1];
            int g = 1;
            for (int i = 1; i < batch.size(); i++) {
                if (batch.get(i).instance() != batch.get(i - 1).instance()) {
                    bounds[g++] = i;
                }
            }
            bounds[groups] = batch.size();
        }

        int groups() {
            return bounds.length - 1;
        }

        long instance(int group) {
            return batch.get(bounds[group]).instance();
        }

        int replies() {
            return groups() + (replicas > 0 ? 1 : 0) + (all ? 1 : 0);
        }

        ByteBuf encode(ByteBufAllocator alloc, boolean byText) {
            int size = 64;
            byte[][] marks = new byte[groups()][];
            for (int k = 0; k < groups(); k++) {
                marks[k] = highWaterKey(instance(k)).getBytes(StandardCharsets.UTF_8);
                size += WriteScript.bytesAtMost(batch, bounds[k], bounds[k + 1], marks[k], deadLetterKey);
            }
            ByteBuf out = alloc.ioBuffer(size);
            for (int k = 0; k < groups(); k++) {
                script.write(out, byText, marks[k], deadLetterKey, batch, bounds[k], bounds[k + 1], replay);
            }
            if (replicas > 0) {
                RespWriter.command(out, 3);
                RespWriter.word(out, WAIT);
                RespWriter.word(out, replicas);
                RespWriter.word(out, waitTimeoutMillis);
            }
            if (all) {
                RespWriter.command(out, 1);
                RespWriter.word(out, ROLE);
            }
            return out;
        }

        /** True when a script answered NOSCRIPT and none answered another error. */
        boolean noScript(List<Object> replies) {
            boolean missing = false;
            for (int k = 0; k < groups(); k++) {
                if (replies.get(k) instanceof RedisErrorReply e) {
                    if (!e.isNoScript()) {
                        return false;
                    }
                    missing = true;
                }
            }
            return missing;
        }
    }
}
