package dev.spillway.relay.sink;

import dev.spillway.relay.net.Transport;
import io.netty.channel.EventLoopGroup;
import java.io.Closeable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.config.Config;
import org.redisson.config.ReadMode;
import org.redisson.config.SentinelServersConfig;
import org.redisson.config.SubscriptionMode;
import org.redisson.config.TransportMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the Redisson client in Sentinel mode. Creating it needs a reachable Sentinel group; a
 * relay must start (and spill) even when all of Redis is down, so the client is created in the
 * background and retried every second until it exists. Until then {@link #client()} throws a
 * connection error, which the write path treats like any failed write.
 *
 * <p>Thread-safe.
 */
public final class RedisConnector implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisConnector.class);

    private final SinkConfig config;
    private final EventLoopGroup eventLoops;
    private final ScheduledExecutorService starter;
    private volatile RedissonClient client;
    private volatile String lastError = "not connected yet";
    private volatile boolean closed;

    public RedisConnector(SinkConfig config) {
        this(config, null);
    }

    /**
     * A connector whose Redisson client does its I/O on {@code eventLoops} (owned by the caller,
     * of the {@link Transport} in use), or on event loops of its own when null.
     */
    public RedisConnector(SinkConfig config, EventLoopGroup eventLoops) {
        this.config = config;
        this.eventLoops = eventLoops;
        this.starter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "redis-connector");
            t.setDaemon(true);
            return t;
        });
        starter.execute(this::tryCreate);
    }

    /** The client, or a {@link RedisConnectionException} while none could be created yet. */
    public RedissonClient client() {
        RedissonClient c = client;
        if (c == null) {
            throw new RedisConnectionException("no connection to the Sentinel group '" + config.masterName()
                    + "' yet: " + lastError);
        }
        return c;
    }

    public boolean isConnected() {
        return client != null;
    }

    private void tryCreate() {
        if (closed) {
            return;
        }
        try {
            client = Redisson.create(redissonConfig(config, eventLoops));
            LOG.info("Connected to Sentinel group '{}' via {}", config.masterName(), config.sentinels());
        } catch (RuntimeException e) {
            lastError = e.getMessage();
            LOG.warn("Cannot reach Sentinel group '{}' via {} ({}); retrying in 1 s", config.masterName(),
                    config.sentinels(), e.getMessage());
            starter.schedule(this::tryCreate, 1, TimeUnit.SECONDS);
        }
    }

    static Config redissonConfig(SinkConfig sink, EventLoopGroup eventLoops) {
        Config c = new Config();
        c.setCodec(ByteArrayCodec.INSTANCE);
        c.setThreads(2);
        c.setTransportMode(Transport.get() == Transport.EPOLL ? TransportMode.EPOLL : TransportMode.NIO);
        if (eventLoops != null) {
            c.setEventLoopGroup(eventLoops);
        } else {
            c.setNettyThreads(2);
        }
        c.setReferenceEnabled(false); // values are bytes, never Redisson objects: skip the per-argument check
        c.setTcpKeepAlive(true);
        // Redisson's own script cache stays off: its batches do not fall back on NOSCRIPT. RedisSink
        // sends EVALSHA itself and, on NOSCRIPT, the same batch again with the script's text.
        c.setUseScriptCache(false);
        SentinelServersConfig s = c.useSentinelServers()
                .setMasterName(sink.masterName())
                .setCheckSentinelsList(false)
                .setScanInterval(250);
        // the scheme of the Sentinels' addresses is also the one Redisson uses for the nodes they name
        String scheme = sink.tls() == null ? "redis://" : "rediss://";
        for (String address : sink.sentinels()) {
            s.addSentinelAddress(scheme + address);
        }
        if (sink.tls() != null) {
            sink.tls().applyTo(c);
        }
        s.setReadMode(ReadMode.MASTER)
                .setSubscriptionMode(SubscriptionMode.MASTER)
                .setTimeout((int) sink.timeout().toMillis())
                .setConnectTimeout((int) sink.connectTimeout().toMillis())
                .setRetryAttempts(0)
                .setMasterConnectionPoolSize(8)
                .setMasterConnectionMinimumIdleSize(2)
                .setSlaveConnectionPoolSize(2)
                .setSlaveConnectionMinimumIdleSize(1)
                .setPingConnectionInterval(1000);
        // the nodes' credentials on Config: Redisson 4 deprecates them on the servers' config
        if (sink.username() != null) {
            c.setUsername(sink.username());
        }
        if (sink.password() != null) {
            c.setPassword(sink.password());
        }
        if (sink.sentinelUsername() != null) {
            s.setSentinelUsername(sink.sentinelUsername());
        }
        if (sink.sentinelPassword() != null) {
            s.setSentinelPassword(sink.sentinelPassword());
        }
        return c;
    }

    @Override
    public void close() {
        closed = true;
        starter.shutdownNow();
        RedissonClient c = client;
        if (c != null) {
            c.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
