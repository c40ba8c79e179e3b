package dev.spillway.relay;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import dev.spillway.relay.admin.AdminHandler;
import dev.spillway.relay.admin.AdminInitializer;
import dev.spillway.relay.admin.AgentHandler;
import dev.spillway.relay.admin.RelayMetrics;
import dev.spillway.relay.config.ListenerConfig;
import dev.spillway.relay.config.RelayConfig;
import dev.spillway.relay.ingress.IngressServer;
import dev.spillway.relay.metrics.RelayEvents;
import dev.spillway.relay.net.ListenerTls;
import dev.spillway.relay.net.Listeners;
import dev.spillway.relay.net.ServerTls;
import dev.spillway.relay.net.Transport;
import dev.spillway.relay.route.Router;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.ssl.SslContext;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One relay process: the write path ({@link Relay}) behind its listeners: ingress
 * ({@link IngressServer}) and admin ({@link AdminHandler}).
 *
 * <p>Lifecycle: {@code starting} until every listener is bound; then {@code ok} (or
 * {@code spilling}, {@code full}); {@link #drain} turns /health to 503 at once, refuses new
 * connections, lets every in-flight message be acknowledged or refused, syncs the spill log and
 * stops, within {@code shutdown.drainTimeout}.
 *
 * <p>Thread-safe.
 */
public final class RelayServer implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(RelayServer.class);

    private final RelayConfig config;
    private final Relay relay;
    private final Listeners listeners;
    private final IngressServer ingress;
    private final Channel admin; // null when the admin listener is off
    private final Channel agent; // null when the agent listener is off
    /** The event loops serving producers' connections and the Redis client alike. */
    private final EventLoopGroup io;
    private final RelayMetrics metrics;
    private volatile boolean started;
    private volatile boolean draining;
    private boolean stopped; // guarded by this

    private RelayServer(RelayConfig config, MetricRegistry metrics) throws IOException {
        this.config = config;
        // before anything starts: a certificate that cannot be used stops the relay here, naming the file
        SslContext tls = config.security().tls() == null ? null : ServerTls.context(config.security().tls());
        this.io = Transport.get().newGroup(config.ioThreads());
        try {
            this.relay = Relay.start(config.sink(), config.spill(), metrics, io, config.name());
        } catch (IOException | RuntimeException e) {
            io.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        this.metrics = new RelayMetrics(metrics, config.graphite(), config.name());
        this.metrics.addHealthCheck("redis", new HealthCheck() {
            @Override
            protected Result check() {
                String master = relay.sentinels().master();
                String blocked = relay.sink().blockedReason();
                return master != null && relay.redisConnected() && blocked.isEmpty()
                        ? Result.healthy("master " + master + ", write gate open, breaker "
                                + relay.sink().breaker().getState())
                        : Result.unhealthy("master " + master + ", connected " + relay.redisConnected() + ", "
                                + (blocked.isEmpty() ? "not connected" : blocked) + " (messages go to the spill log)");
            }
        });
        this.metrics.addHealthCheck("spill", new HealthCheck() {
            @Override
            protected Result check() {
                long pending = relay.spill().pendingBytes();
                long max = config.spill().maxBytes();
                return relay.spill().isFailed() ? Result.unhealthy("spill log failed after an I/O error")
                        : relay.spill().isDiskFull()
                                ? Result.unhealthy("spill disk full under " + config.spill().directory()
                                        + ": appends refused, replay goes on; " + pending + " bytes pending")
                        : pending + config.limits().maxValueBytes() > max
                                ? Result.unhealthy("spill log full: " + pending + " of " + max + " bytes")
                                : Result.healthy(pending + " of " + max + " bytes pending");
            }
        });
        this.listeners = new Listeners(io);
        IngressServer ingress = null;
        Channel adminChannel = null;
        try {
            ingress = new IngressServer(config, relay.router(), this::status, metrics, listeners, tls);
            adminChannel = config.admin().enabled() ? listeners.bind(config.admin(), new AdminInitializer(
                    new AdminHandler(this::status, this.metrics, config.adminPeers(), config.security().adminToken()),
                    config.admin().tls() ? ListenerTls.of(tls, "admin", "admin", metrics) : null), false)
                    : null;
            this.agent = config.agent().enabled()
                    ? listeners.bind(config.agent(), AgentHandler.initializer(this::status), false) : null;
        } catch (IOException | RuntimeException e) {
            if (adminChannel != null) {
                adminChannel.close().syncUninterruptibly();
            }
            if (ingress != null) {
                ingress.close();
            }
            listeners.close();
            this.metrics.close();
            relay.close();
            io.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
        this.admin = adminChannel;
        this.ingress = ingress;
        started = true;
        RelayEvents.info("start", "Relay '" + config.name() + "' " + Version.get() + " listening: "
                + addresses().entrySet().stream().map(e -> e.getKey() + " " + e.getValue().getHostString() + ":"
                        + e.getValue().getPort() + (listener(e.getKey()).tls() ? " (TLS)" : ""))
                        .collect(Collectors.joining(", "))
                + "; ingress " + security() + "; Sentinel group '" + config.sink().masterName() + "' via "
                + config.sink().sentinels() + "; spill " + config.spill().directory() + " (max "
                + config.spill().maxBytes() + " bytes); transport "
                + Transport.get().name().toLowerCase(java.util.Locale.ROOT) + ", " + config.ioThreads()
                + " I/O thread(s)", "relay", config.name(), "version", Version.get());
    }

    private ListenerConfig listener(String name) {
        return switch (name) {
            case "resp" -> config.resp();
            case "line" -> config.line();
            case "http" -> config.http();
            case "agent" -> config.agent();
            default -> config.admin();
        };
    }

    /** What the start-up line says of ingress security: names and patterns, never a secret. */
    private String security() {
        var s = config.security();
        return s.users() + (s.lineUser() == null ? "" : ", line listener as " + s.lineUser().name())
                + (s.tls() == null ? "" : s.tls().clientCertificatesRequired() ? ", client certificates required" : "")
                + (s.adminToken() == null ? "" : ", admin token required");
    }

    public static RelayServer start(RelayConfig config, MetricRegistry metrics) throws IOException {
        return new RelayServer(config, metrics);
    }

    public RelayStatus status() {
        Router router = relay.router();
        long pendingBytes = relay.spill().pendingBytes();
        Router.Mode mode = router.mode();
        RelayState state = RelayState.of(started, draining, mode == Router.Mode.SPILL,
                relay.spill().isFailed(), relay.spill().isDiskFull()
                        || pendingBytes + config.limits().maxValueBytes() > config.spill().maxBytes());
        String master = relay.sentinels().master();
        return new RelayStatus(config.name(), Long.toHexString(router.instance()), state, mode.name(),
                master == null ? "unknown" : master, relay.sink().breaker().getState().name(),
                relay.spill().pendingMessages(), pendingBytes, config.spill().maxBytes(),
                relay.sentinels().failovers(), ingress == null ? 0 : ingress.connections(),
                ingress == null ? 0 : ingress.inFlight().total(),
                relay.sink().gate().state().open() ? "open" : "closed: " + relay.sink().gate().state().reason(),
                router.deadLettered(), relay.spill().isDiskFull(), relay.spill().isFailed());
    }

    /** Where each enabled listener is bound ("resp", "line", "http", "admin", "agent"). */
    public Map<String, InetSocketAddress> addresses() {
        Map<String, InetSocketAddress> out = new LinkedHashMap<>(ingress.addresses());
        if (admin != null) {
            out.put("admin", (InetSocketAddress) admin.localAddress());
        }
        if (agent != null) {
            out.put("agent", (InetSocketAddress) agent.localAddress());
        }
        return out;
    }

    public Relay relay() {
        return relay;
    }

    /** Orderly shutdown; safe to call more than once. */
    public synchronized void drain() throws IOException {
        if (stopped) {
            return;
        }
        long start = System.nanoTime();
        long deadline = start + config.drainTimeout().toNanos();
        draining = true;
        RelayEvents.info("drain", "Draining relay '" + config.name() + "': its agent says drain and /health "
                + "answers 503; new connections are refused in " + config.drainNotice().toMillis() + " ms",
                "relay", config.name());
        // HAProxy hears "drain" at its next agent check and stops sending new connections; only then
        // do the listeners close, so no connection is refused (or reset in the accept queue) meanwhile
        sleepUntil(Math.min(System.nanoTime() + config.drainNotice().toNanos(), deadline));
        ingress.stopAccepting();
        // Connections stop reading, get every answer they are owed (acks keep flowing from the
        // router meanwhile) and close; then the router writes or spills whatever is queued.
        ingress.closeConnectionsWhenDone();
        while ((ingress.connections() > 0 || ingress.inFlight().total() > 0) && System.nanoTime() < deadline) {
            try {
                TimeUnit.MILLISECONDS.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        long unanswered = ingress.inFlight().total();
        relay.router().close();
        metrics.close();
        ingress.close();
        if (admin != null) {
            admin.close().syncUninterruptibly();
        }
        if (agent != null) {
            agent.close().syncUninterruptibly();
        }
        listeners.close();
        relay.close();
        io.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        stopped = true;
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        RelayEvents.info("stop", "Relay '" + config.name() + "' stopped after " + ms + " ms"
                + (unanswered == 0 ? "" : "; " + unanswered + " messages were still awaiting their ack at the deadline"
                        + " (written or spilled by the router's close; their producers saw the connection close)"),
                "relay", config.name(), "millis", ms, "unanswered", unanswered);
    }

    private static void sleepUntil(long nanoTime) {
        long left;
        while ((left = nanoTime - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        drain();
    }
}
