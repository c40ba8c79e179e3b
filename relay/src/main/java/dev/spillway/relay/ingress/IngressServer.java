package dev.spillway.relay.ingress;

import dev.spillway.relay.RelayStatus;
import dev.spillway.relay.admin.AdminHandler;
import dev.spillway.relay.config.ListenerConfig;
import dev.spillway.relay.config.RelayConfig;
import dev.spillway.relay.ingress.http.HttpIngestInitializer;
import dev.spillway.relay.ingress.http.HttpReplies;
import dev.spillway.relay.ingress.line.LineInitializer;
import dev.spillway.relay.ingress.resp.RespInitializer;
import dev.spillway.relay.net.Transport;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.admin.RelayMetrics;
import dev.spillway.relay.route.Intake;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Binds the relay's listeners — RESP, line, HTTP ingest, admin — on shared Netty event loops,
 * and takes them down in the order a drain needs: stop accepting, let replies out, close.
 *
 * <p>Thread-safe.
 */
public final class IngressServer implements Closeable {

    private final EventLoopGroup boss = Transport.get().newGroup(1);
    private final EventLoopGroup workers;
    private final ChannelGroup clients = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger open = new AtomicInteger();
    private final Map<String, Channel> ingress = new LinkedHashMap<>();
    private Channel admin;
    private final InFlight inFlight;

    /**
     * Binds every enabled listener. Connections are served on {@code workers}, which the caller
     * owns (and may share with the Redis client, so a batch's acknowledgements reach the
     * connections without a thread hand-off).
     */
    public IngressServer(RelayConfig config, Intake router, Supplier<RelayStatus> status, RelayMetrics metrics,
            EventLoopGroup workers) throws IOException {
        this.workers = workers;
        this.inFlight = new InFlight(config.limits().maxInFlightPerConnection(), config.limits().maxInFlightTotal());
        var limits = config.limits();
        int max = limits.maxConnections();
        MetricRegistry registry = metrics.registry();
        registry.register("ingress.connections", (Gauge<Integer>) this::connections);
        registry.register("ingress.in-flight", (Gauge<Long>) inFlight::total);
        Meter tooMany = registry.meter("ingress.rejected.too-many-connections");
        try {
            bind("resp", config.resp(), new RespInitializer(router, limits, inFlight,
                    new IngressMetrics(registry, "resp"),
                    new ConnectionLimiter(open, clients, max, tooMany, why -> new ErrorRedisMessage("ERR " + why)),
                    config.password(), status));
            bind("line", config.line(), new LineInitializer(router, limits, inFlight,
                    new IngressMetrics(registry, "line"), new ConnectionLimiter(open, clients, max, tooMany,
                            why -> Unpooled.copiedBuffer("ERR " + why + "\n", StandardCharsets.UTF_8)),
                    config.lineKey()));
            bind("http", config.http(), new HttpIngestInitializer(router, limits, inFlight,
                    new IngressMetrics(registry, "http"), new ConnectionLimiter(open, clients, max, tooMany,
                            why -> HttpReplies.error(HttpResponseStatus.SERVICE_UNAVAILABLE, why)),
                    config.httpToken()));
            if (config.admin().enabled()) {
                AdminHandler handler = new AdminHandler(status, metrics, config.adminPeers());
                admin = bindChannel(config.admin(), new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024), handler);
                    }
                }, false);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void bind(String name, ListenerConfig listener, ChannelHandler initializer) throws IOException {
        if (listener.enabled()) {
            ingress.put(name, bindChannel(listener, initializer, true));
        }
    }

    /**
     * With {@code halfClosure}, a client's shutdown of its sending side does not close the
     * connection: the handlers answer what it sent, then close (see {@link ReplyingHandler}).
     */
    private Channel bindChannel(ListenerConfig listener, ChannelHandler initializer, boolean halfClosure)
            throws IOException {
        try {
            return new ServerBootstrap().group(boss, workers).channel(Transport.get().serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, halfClosure)
                    .childHandler(initializer)
                    .bind(listener.host(), listener.port()).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding " + listener.address(), e);
        } catch (Exception e) {
            throw new IOException("cannot listen on " + listener.address() + ": " + e.getMessage(), e);
        }
    }

    /** Where each enabled listener is bound ("resp", "line", "http", "admin"). */
    public Map<String, InetSocketAddress> addresses() {
        Map<String, InetSocketAddress> out = new LinkedHashMap<>();
        ingress.forEach((k, ch) -> out.put(k, (InetSocketAddress) ch.localAddress()));
        if (admin != null) {
            out.put("admin", (InetSocketAddress) admin.localAddress());
        }
        return out;
    }

    public int connections() {
        return Math.max(0, open.get());
    }

    public InFlight inFlight() {
        return inFlight;
    }

    /** Closes the ingress listening sockets: new connections are refused, open ones carry on. */
    public void stopAccepting() {
        List<Channel> channels = new ArrayList<>(ingress.values());
        channels.forEach(ch -> ch.close().syncUninterruptibly());
    }

    /**
     * Every connection stops reading, answers what it has taken, and closes (see
     * {@link ReplyQueue#closeWhenDone}).
     */
    public void closeConnectionsWhenDone() {
        for (Channel ch : clients) {
            ReplyQueue q = ch.attr(ReplyQueue.KEY).get();
            ch.eventLoop().execute(() -> {
                if (q != null) {
                    q.closeWhenDone();
                } else {
                    ch.close();
                }
            });
        }
    }

    /** Closes every ingress connection (after their replies were given a chance to leave). */
    public void closeConnections() {
        clients.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        stopAccepting();
        closeConnections();
        if (admin != null) {
            admin.close().syncUninterruptibly();
        }
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
