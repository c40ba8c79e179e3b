package dev.spillway.relay.config;

import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.spill.SpillLogConfig;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Everything one relay process runs with, validated. Built by {@link ConfigLoader} from YAML
 * and {@code SPILLWAY_*} environment variables; every field is listed with its default in
 * {@code relay/relay.example.yaml}.
 *
 * @param name shown in INFO, /health and logs
 * @param resp Redis-protocol listener
 * @param line line-protocol listener (one message per line)
 * @param lineKey the list that line-protocol messages go to
 * @param http HTTP ingest listener
 * @param admin health, metrics and dashboard
 * @param adminPeers admin host:port of the other relays, shown together on the dashboard
 * @param agent HAProxy's agent-check listener ({@link dev.spillway.relay.admin.AgentHandler})
 * @param security ingress users, the line listener's user, the admin token, the TLS certificate
 * @param drainTimeout longest an orderly shutdown (SIGTERM) waits for in-flight messages
 * @param drainNotice how long a draining relay keeps taking new connections while its agent
 *     already says {@code drain}, so that HAProxy has stopped sending them before it stops
 *     accepting; part of {@code drainTimeout}
 * @param graphite Graphite reporter settings, or null for none
 * @param ioThreads event-loop threads shared by producers' connections and the Redis client;
 *     0 (the default) means one per two processors, at least one
 */
public record RelayConfig(String name, ListenerConfig resp, ListenerConfig line, String lineKey, ListenerConfig http,
        ListenerConfig admin, List<String> adminPeers, ListenerConfig agent, Limits limits, SecurityConfig security, SinkConfig sink, SpillLogConfig spill,
        Duration drainTimeout, Duration drainNotice, GraphiteConfig graphite, int ioThreads) {

    public static final String DEFAULT_NAME = "relay";
    public static final ListenerConfig DEFAULT_RESP = new ListenerConfig(true, "127.0.0.1", 6390);
    public static final ListenerConfig DEFAULT_LINE = new ListenerConfig(true, "127.0.0.1", 9511);
    public static final String DEFAULT_LINE_KEY = "data_queue";
    public static final ListenerConfig DEFAULT_HTTP = new ListenerConfig(true, "127.0.0.1", 8090);
    public static final ListenerConfig DEFAULT_ADMIN = new ListenerConfig(true, "127.0.0.1", 8091);
    /** HAProxy's agent-check port: the relay's own word on whether it wants new connections. */
    public static final ListenerConfig DEFAULT_AGENT = new ListenerConfig(true, "127.0.0.1", 8092);
    /**
     * Absolute, so that where acknowledged messages live does not depend on the directory the
     * relay happens to be started from; the systemd unit, the container image and the
     * Kubernetes manifests all put a relay's own persistent volume at this path or pass theirs.
     */
    public static final String DEFAULT_SPILL_DIR = "/var/lib/spillway/spill";
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(10);
    /** Two of HAProxy's agent checks (agent-inter 500ms in haproxy/haproxy.cfg.template). */
    public static final Duration DEFAULT_DRAIN_NOTICE = Duration.ofSeconds(1);

    public RelayConfig {
        Objects.requireNonNull(resp, "resp");
        Objects.requireNonNull(line, "line");
        Objects.requireNonNull(http, "http");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(agent, "agent");
        adminPeers = List.copyOf(adminPeers);
        for (String peer : adminPeers) {
            if (!peer.matches("[^:\\s/]+:\\d{1,5}")) {
                throw new ConfigException("listeners.admin.peers: " + peer + " (expected: host:port)");
            }
        }
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(spill, "spill");
        if (name == null || name.isBlank()) {
            throw new ConfigException("name: '" + name + "' (expected: a non-empty name)");
        }
        if (lineKey == null || lineKey.isEmpty()) {
            throw new ConfigException("listeners.line.key: '" + lineKey + "' (expected: a Redis list name)");
        }
        Objects.requireNonNull(security, "security");
        requireCertificate("resp", resp, security);
        requireCertificate("line", line, security);
        requireCertificate("http", http, security);
        requireCertificate("admin", admin, security);
        if (admin.enabled() && !admin.loopbackOnly() && security.adminToken() == null
                && !security.allowAdminWithoutToken()) {
            throw new ConfigException("listeners.admin.host: " + admin.host() + " is reachable from other hosts "
                    + "(expected: security.adminToken or security.adminTokenFile set, so that only probes "
                    + "/health/live and /health/ready answer without it; or security.allowAdminWithoutToken: true "
                    + "where the network alone keeps others out)");
        }
        if (ioThreads < 0 || ioThreads > 1024) {
            throw new ConfigException("ioThreads: " + ioThreads + " (expected: 0 for one per two processors, or 1 to 1024)");
        }
        if (ioThreads == 0) {
            ioThreads = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
        }
        if (drainTimeout == null || drainTimeout.isNegative()) {
            throw new ConfigException("shutdown.drainTimeout: " + drainTimeout + " (expected: >= 0)");
        }
        if (drainNotice == null || drainNotice.isNegative() || drainNotice.compareTo(drainTimeout) > 0) {
            throw new ConfigException("shutdown.drainNotice: " + drainNotice + " (expected: >= 0 and at most "
                    + "shutdown.drainTimeout, " + drainTimeout + ")");
        }
        if (limits.maxValueBytes() + 64 > spill.maxRecordBytes()) {
            throw new ConfigException("limits.maxValueBytes: " + limits.maxValueBytes()
                    + " (expected: below spill.maxRecordBytes " + spill.maxRecordBytes() + " minus 64)");
        }
    }

    private static void requireCertificate(String name, ListenerConfig l, SecurityConfig security) {
        if (l.enabled() && l.tls() && security.tls() == null) {
            throw new ConfigException("listeners." + name + ".tls: true (expected: security.tls.certFile and "
                    + "security.tls.keyFile set, or tls: false)");
        }
    }
}
