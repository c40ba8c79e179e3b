package dev.spillway.relay;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.route.Router;
import dev.spillway.relay.sink.GuardedSink;
import dev.spillway.relay.sink.RedisSink;
import dev.spillway.relay.sink.SentinelWatcher;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.sink.WriteGate;
import dev.spillway.relay.spill.SpillLog;
import dev.spillway.relay.spill.SpillLogConfig;
import dev.spillway.relay.net.Transport;
import io.netty.channel.EventLoopGroup;
import java.io.Closeable;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's write path assembled: spill log, write gate kept by the Sentinel watcher, the Redis
 * sink on its connection to the master the gate names, guarded sink and router, sharing one
 * metric registry. Ingress listeners submit to {@link #router()}.
 *
 * <p>Thread-safe.
 */
public final class Relay implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);

    private final MetricRegistry metrics;
    private final SpillLog spill;
    private final RedisSink redis;
    private final EventLoopGroup ownLoops; // null when the caller's event loops carry the sink's I/O
    private final GuardedSink sink;
    private final SentinelWatcher sentinels;
    private final Router router;

    private Relay(SinkConfig sinkConfig, SpillLogConfig spillConfig, MetricRegistry metrics, EventLoopGroup eventLoops,
            String relayName) throws IOException {
        this.metrics = metrics;
        this.spill = SpillLog.open(spillConfig, metrics);
        this.ownLoops = eventLoops == null ? Transport.get().newGroup(1) : null;
        this.redis = new RedisSink(eventLoops == null ? ownLoops : eventLoops, sinkConfig, metrics, relayName);
        if (!sinkConfig.waitsForReplicas()) {
            LOG.warn("sink.ack.minReplicas: 0 — a batch counts as written once the master has it, without any replica: "
                    + "a master that dies before its replicas copied the batch loses acknowledged messages. "
                    + "Use 'all' (the default) or a number of replicas.");
        } else if (sinkConfig.minReplicas() != SinkConfig.ALL_REPLICAS) {
            LOG.info("sink.ack.minReplicas: {} — a replica that has not confirmed a batch can still be promoted (Sentinel "
                    + "picks by replication offset, and an operator's SENTINEL FAILOVER by a single Sentinel); 'all' "
                    + "closes that window", sinkConfig.minReplicas());
        }
        WriteGate gate = new WriteGate();
        this.sentinels = new SentinelWatcher(sinkConfig, gate, metrics);
        redis.keepConnected(gate);
        this.sink = new GuardedSink(redis, gate, sinkConfig, metrics);
        this.router = new Router(sink, spill, sinkConfig, metrics);
        sentinels.start();
    }

    public static Relay start(SinkConfig sinkConfig, SpillLogConfig spillConfig, MetricRegistry metrics)
            throws IOException {
        return new Relay(sinkConfig, spillConfig, metrics, null, "relay");
    }

    /**
     * A relay whose connection to the master does its I/O on {@code eventLoops} (owned by the caller);
     * {@code relayName} names it in dead-letter entries.
     */
    public static Relay start(SinkConfig sinkConfig, SpillLogConfig spillConfig, MetricRegistry metrics,
            EventLoopGroup eventLoops, String relayName) throws IOException {
        return new Relay(sinkConfig, spillConfig, metrics, eventLoops, relayName);
    }

    public Router router() {
        return router;
    }

    public SpillLog spill() {
        return spill;
    }

    public GuardedSink sink() {
        return sink;
    }

    public SentinelWatcher sentinels() {
        return sentinels;
    }

    /** True while the relay has a connection to the master the write gate names. */
    public boolean redisConnected() {
        return redis.connected();
    }

    public MetricRegistry metrics() {
        return metrics;
    }

    /** Stops taking messages, writes or spills what is queued, syncs the spill and disconnects. */
    @Override
    public void close() throws IOException {
        router.close();
        spill.close();
        sentinels.close();
        sink.close();
        redis.close();
        if (ownLoops != null) {
            ownLoops.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
        }
    }
}
