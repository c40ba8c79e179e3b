package dev.spillway.relay.admin;

import dev.spillway.relay.RelayStatus;
import dev.spillway.relay.net.HttpReplies;
import dev.spillway.relay.security.Secret;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The admin endpoints: {@code /metrics} (metrics-json), {@code /metrics/prometheus},
 * {@code /dashboard} (a self-contained live page), {@code /peers}, and {@code GET /health}: 200 while the relay takes writes (directly or into
 * its spill log), 503 while starting, draining or full; the JSON body says which, and shows the
 * master, the breaker and the spill depth. With an admin token ({@code security.adminToken}),
 * every endpoint but the probes {@code /health/live} and {@code /health/ready} wants
 * {@code Authorization: Bearer <token>} and answers 401 without it.
 *
 * <p>Stateless apart from its collaborators; sharable and thread-safe.
 */
@ChannelHandler.Sharable
public final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

    private final Supplier<RelayStatus> status;
    private final RelayMetrics metrics;
    private final List<String> peers;
    private final byte[] dashboard;
    private final Secret token;

    public AdminHandler(Supplier<RelayStatus> status, RelayMetrics metrics, List<String> peers) {
        this(status, metrics, peers, null);
    }

    /** {@code token}: what every endpoint but the probes requires; null for none. */
    public AdminHandler(Supplier<RelayStatus> status, RelayMetrics metrics, List<String> peers, Secret token) {
        this.token = token;
        this.status = status;
        this.metrics = metrics;
        this.peers = peers;
        try (InputStream in = AdminHandler.class.getResourceAsStream("/dashboard.html")) {
            this.dashboard = in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read dashboard.html", e);
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        String path = new QueryStringDecoder(req.uri()).path();
        FullHttpResponse r;
        if (token != null && !path.equals("/health/live") && !path.equals("/health/ready") && !authorized(req)) {
            r = HttpReplies.error(HttpResponseStatus.UNAUTHORIZED, "missing or wrong bearer token "
                    + "(security.adminToken); /health/live and /health/ready answer without it");
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        } else if (!req.method().equals(HttpMethod.GET) && !req.method().equals(HttpMethod.HEAD)) {
            r = HttpReplies.error(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET");
        } else {
            r = switch (path) {
                case "/health", "/health/ready" -> health();
                case "/health/live" -> live();
                case "/events" -> HttpReplies.json(HttpResponseStatus.OK, Map.of("events", metrics.events().entries()));
                case "/metrics" -> bytes(metrics::json, "application/json");
                case "/metrics/prometheus" -> bytes(metrics::prometheus, metrics.prometheusContentType());
                case "/dashboard", "/" -> dashboard == null
                        ? HttpReplies.error(HttpResponseStatus.NOT_FOUND, "dashboard not packaged")
                        : HttpReplies.bytes(HttpResponseStatus.OK, dashboard, "text/html; charset=utf-8");
                case "/peers" -> HttpReplies.json(HttpResponseStatus.OK, Map.of("peers", peers));
                default -> HttpReplies.error(HttpResponseStatus.NOT_FOUND,
                        "no such resource; try /health, /health/live, /health/ready, /metrics, "
                                + "/metrics/prometheus, /dashboard");
            };
        }
        // Read-only and bound to loopback by default: the dashboard of one relay reads the others.
        r.headers().set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        r.headers().set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        var f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private boolean authorized(FullHttpRequest req) {
        String header = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        return header != null && header.length() > 7 && header.regionMatches(true, 0, "Bearer ", 0, 7)
                && token.matches(header.substring(7).trim().getBytes(StandardCharsets.UTF_8));
    }

    private interface Body {
        byte[] get() throws IOException;
    }

    private static FullHttpResponse bytes(Body body, String contentType) {
        try {
            return HttpReplies.bytes(HttpResponseStatus.OK, body.get(), contentType);
        } catch (IOException | RuntimeException e) {
            return HttpReplies.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "metrics unavailable: " + e);
        }
    }

    private FullHttpResponse health() {
        RelayStatus s = status.get();
        Map<String, Object> body = s.healthFields();
        body.put("checks", metrics.runHealthChecks());
        return HttpReplies.json(s.takesWrites() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, body);
    }

    /**
     * Liveness, for a supervisor that restarts what is stuck (a Kubernetes liveness probe): 200
     * unless only a restart helps. A full or draining relay is alive and answers 200 here while
     * {@code /health} ({@code /health/ready}) says 503.
     */
    private FullHttpResponse live() {
        RelayStatus s = status.get();
        return s.isLive()
                ? HttpReplies.json(HttpResponseStatus.OK, Map.of("status", "live", "state", s.state().text()))
                : HttpReplies.json(HttpResponseStatus.SERVICE_UNAVAILABLE, Map.of("status",
                        "spill log failed after an I/O error it could not repair; restart the relay to reopen it"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
