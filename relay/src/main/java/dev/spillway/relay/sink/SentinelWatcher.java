package dev.spillway.relay.sink;

import dev.spillway.relay.net.Transport;
import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisEncoder;
import io.netty.handler.codec.redis.RedisMessage;
import io.netty.handler.codec.redis.SimpleStringRedisMessage;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the Sentinels' view of the master: on connecting to each Sentinel it asks
 * {@code SENTINEL get-master-addr-by-name}, then subscribes to {@code +switch-master}.
 * Listeners hear each change of master once (every Sentinel announces it), with the old and new
 * address; failovers are counted. Lost Sentinel connections are retried every second.
 *
 * <p>Thread-safe. Listeners run on a Netty event loop; one that throws is logged and skipped.
 */
public final class SentinelWatcher implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(SentinelWatcher.class);
    private static final long RECONNECT_MILLIS = 1000;

    private final SinkConfig config;
    private final EventLoopGroup group = Transport.get().newGroup(1);
    private final List<BiConsumer<String, String>> listeners = new CopyOnWriteArrayList<>();
    private final List<Channel> channels = new CopyOnWriteArrayList<>();
    private final Counter failovers;
    private volatile String master;
    private volatile boolean closed;

    public SentinelWatcher(SinkConfig config, MetricRegistry metrics) {
        this.config = config;
        this.failovers = metrics.counter(MetricRegistry.name(SentinelWatcher.class, "failovers"));
        metrics.register(MetricRegistry.name(SentinelWatcher.class, "master"),
                (Gauge<String>) () -> master == null ? "unknown" : master);
    }

    /** Connects to every Sentinel; returns at once (connections complete in the background). */
    public void start() {
        for (String s : config.sentinels()) {
            connect(s);
        }
    }

    /** Called with (old, new) master address on each failover Sentinel announces. */
    public void addListener(BiConsumer<String, String> listener) {
        listeners.add(listener);
    }

    /** The master's host:port as the Sentinels last said, or null before any answered. */
    public String master() {
        return master;
    }

    public long failovers() {
        return failovers.getCount();
    }

    @Override
    public void close() {
        closed = true;
        channels.forEach(Channel::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void connect(String sentinel) {
        if (closed) {
            return;
        }
        int colon = sentinel.lastIndexOf(':');
        String host = sentinel.substring(0, colon);
        int port = Integer.parseInt(sentinel.substring(colon + 1));
        new Bootstrap().group(group).channel(Transport.get().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new RedisDecoder(), new RedisBulkStringAggregator(),
                                new RedisArrayAggregator(), new RedisEncoder(), new Handler(sentinel));
                    }
                })
                .connect(host, port)
                .addListener(f -> {
                    if (f.isSuccess()) {
                        return;
                    }
                    LOG.debug("Sentinel {} unreachable: {}", sentinel, f.cause().toString());
                    group.schedule(() -> connect(sentinel), RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
                });
    }

    private void masterIs(String address, String via, boolean announced) {
        String old = master;
        if (address.equals(old)) {
            return;
        }
        master = address;
        if (old == null && !announced) {
            LOG.info("Redis master of '{}' is {} (Sentinel {})", config.masterName(), address, via);
            return;
        }
        failovers.inc();
        LOG.warn("Failover of '{}': master {} -> {} (Sentinel {})", config.masterName(), old, address, via);
        for (BiConsumer<String, String> l : listeners) {
            try {
                l.accept(old, address);
            } catch (RuntimeException e) {
                LOG.warn("Failover listener {} failed", l, e);
            }
        }
    }

    private static ArrayRedisMessage command(String... words) {
        List<RedisMessage> parts = new ArrayList<>(words.length);
        for (String w : words) {
            parts.add(new FullBulkStringRedisMessage(Unpooled.copiedBuffer(w, StandardCharsets.UTF_8)));
        }
        return new ArrayRedisMessage(parts);
    }

    private static String text(RedisMessage m) {
        if (m instanceof FullBulkStringRedisMessage b) {
            return b.isNull() ? null : b.content().toString(StandardCharsets.UTF_8);
        }
        if (m instanceof SimpleStringRedisMessage s) {
            return s.content();
        }
        return null;
    }

    /** One Sentinel connection: AUTH (optional) → get-master-addr-by-name → SUBSCRIBE. */
    private final class Handler extends SimpleChannelInboundHandler<RedisMessage> {
        private final String sentinel;
        private boolean authPending;
        private boolean queryPending;

        Handler(String sentinel) {
            this.sentinel = sentinel;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channels.add(ctx.channel());
            if (config.sentinelPassword() != null) {
                authPending = true;
                ctx.write(command("AUTH", config.sentinelPassword()));
            }
            queryPending = true;
            ctx.write(command("SENTINEL", "get-master-addr-by-name", config.masterName()));
            ctx.writeAndFlush(command("SUBSCRIBE", "+switch-master"));
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RedisMessage msg) {
            if (msg instanceof ErrorRedisMessage err) {
                LOG.warn("Sentinel {} answered: {}", sentinel, err.content());
                authPending = false;
                queryPending = false;
                return;
            }
            if (authPending) {
                authPending = false;
                return;
            }
            if (!(msg instanceof ArrayRedisMessage arr)) {
                return;
            }
            List<RedisMessage> parts = arr.children();
            if (queryPending) {
                queryPending = false;
                if (parts.size() == 2 && text(parts.get(0)) != null) {
                    masterIs(text(parts.get(0)) + ":" + text(parts.get(1)), sentinel, false);
                }
                return;
            }
            // ["message", "+switch-master", "<name> <old-ip> <old-port> <new-ip> <new-port>"]
            if (parts.size() == 3 && "message".equals(text(parts.get(0)))) {
                String payload = text(parts.get(2));
                String[] f = payload == null ? new String[0] : payload.split(" ");
                if (f.length == 5 && f[0].equals(config.masterName())) {
                    masterIs(f[3] + ":" + f[4], sentinel, true);
                }
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            channels.remove(ctx.channel());
            if (!closed) {
                LOG.debug("Lost Sentinel {}; reconnecting", sentinel);
                ctx.channel().eventLoop().schedule(() -> connect(sentinel), RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("Sentinel {} connection failed: {}", sentinel, cause.toString());
            ctx.close();
        }
    }
}
