package dev.spillway.relay.ingress;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.RelayStatus;
import dev.spillway.relay.config.Limits;
import dev.spillway.relay.config.ListenerConfig;
import dev.spillway.relay.config.RelayConfig;
import dev.spillway.relay.ingress.http.HttpIngestInitializer;
import dev.spillway.relay.ingress.line.LineInitializer;
import dev.spillway.relay.ingress.resp.RespInitializer;
import dev.spillway.relay.net.HttpReplies;
import dev.spillway.relay.net.ListenerTls;
import dev.spillway.relay.net.Listeners;
import dev.spillway.relay.route.Intake;
import dev.spillway.relay.security.IngressUsers;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.ssl.SslContext;
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
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Binds the relay's ingress listeners — RESP, line, HTTP — and takes them down in the order a
 * drain needs: stop accepting, let replies out, close.
 *
 * <p>Thread-safe.
 */
public final class IngressServer implements Closeable {

    private final Listeners listeners;
    private final ChannelGroup clients = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final AtomicInteger open = new AtomicInteger();
    private final Map<String, Channel> ingress = new LinkedHashMap<>();
    private final InFlight inFlight;

    /**
     * Binds every enabled ingress listener through {@code listeners}, which the caller owns (its
     * event loops may serve the Redis client too, so a batch's acknowledgements reach the
     * connections without a thread hand-off). {@code tls} serves the listeners configured with
     * {@code tls: true}; null when none is.
     */
    public IngressServer(RelayConfig config, Intake router, Supplier<RelayStatus> status, MetricRegistry registry,
            Listeners listeners, SslContext tls) throws IOException {
        this.listeners = listeners;
        this.inFlight = new InFlight(config.limits().maxInFlightPerConnection(), config.limits().maxInFlightTotal());
        var limits = config.limits();
        registry.register("ingress.connections", (Gauge<Integer>) this::connections);
        registry.register("ingress.in-flight", (Gauge<Long>) inFlight::total);
        Meter tooMany = registry.meter("ingress.rejected.too-many-connections");
        try {
            IngressUsers users = config.security().users();
            bind("resp", config.resp(), new RespInitializer(context(router, limits, registry, "resp", config.resp(),
                    tls, tooMany, why -> new ErrorRedisMessage("ERR " + why)), users, status));
            bind("line", config.line(), new LineInitializer(context(router, limits, registry, "line", config.line(),
                    tls, tooMany, why -> Unpooled.copiedBuffer("ERR " + why + "\n", StandardCharsets.UTF_8)),
                    config.lineKey()));
            bind("http", config.http(), new HttpIngestInitializer(context(router, limits, registry, "http",
                    config.http(), tls, tooMany, why -> HttpReplies.error(HttpResponseStatus.SERVICE_UNAVAILABLE, why)),
                    users));
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void bind(String name, ListenerConfig listener, ChannelHandler initializer) throws IOException {
        if (listener.enabled()) {
            // half-closure: a client that shuts down its sending side still gets its answers (see ReplyingHandler)
            ingress.put(name, listeners.bind(listener, initializer, true));
        }
    }

    /**
     * One listener's shared parts: its own metrics, a connection limit that refuses with
     * {@code refusal}, and TLS when the listener has it.
     */
    private ListenerContext context(Intake router, Limits limits, MetricRegistry registry, String listener,
            ListenerConfig config, SslContext tls, Meter tooMany, Function<String, Object> refusal) {
        return new ListenerContext(router, limits, inFlight, new IngressMetrics(registry, listener),
                new ConnectionLimiter(open, clients, limits.maxConnections(), tooMany, refusal),
                config.tls() ? ListenerTls.of(tls, listener, "ingress." + listener, registry) : null);
    }

    /** Where each enabled ingress listener is bound ("resp", "line", "http"). */
    public Map<String, InetSocketAddress> addresses() {
        Map<String, InetSocketAddress> out = new LinkedHashMap<>();
        ingress.forEach((k, ch) -> out.put(k, (InetSocketAddress) ch.localAddress()));
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
    }
}
