package dev.spillway.relay.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.spillway.relay.sink.RedisTls;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.spill.SpillLogConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The shape of a relay's YAML file, bound by Jackson: every setting, nested as in the file
 * ({@code relay/relay.example.yaml} lists each with its default). A setting that is absent is
 * null here and takes the default of the object it configures, where each default is defined
 * once; validation, too, lives with those objects, next to their fields. Sizes and durations are
 * read by {@link Units}; unknown settings are refused by the binder.
 */
record RelayFile(String name, Integer ioThreads, Listeners listeners, LimitsFile limits, Security security,
        SinkFile sink, SpillFile spill, Shutdown shutdown, MetricsFile metrics) {

    record Listeners(Listener resp, LineListener line, Listener http, AdminListener admin, AgentListener agent) {}

    /** HAProxy's agent-check: plain TCP, one line per connection (HAProxy's agent has no TLS). */
    record AgentListener(Boolean enabled, String host, Integer port) {}

    record Listener(Boolean enabled, String host, Integer port, Boolean tls) {}

    /** {@code user}: the line protocol cannot authenticate, so the listener pushes as this user. */
    record LineListener(Boolean enabled, String host, Integer port, Boolean tls, String key, String user) {}

    record AdminListener(Boolean enabled, String host, Integer port, Boolean tls, List<String> peers) {}

    record LimitsFile(Integer maxValueBytes, Integer maxRequestBytes, Integer maxMultibulk, Integer maxInlineBytes,
            Integer maxInFlightPerConnection, Integer maxInFlightTotal, Integer maxConnections, Duration idleTimeout) {}

    /** Secrets: a value, or a file holding it ({@code ...File}); never both. */
    record Security(String password, String passwordFile, String httpToken, String httpTokenFile,
            String adminToken, String adminTokenFile, Boolean allowAdminWithoutToken, List<User> users,
            SecurityTls tls) {}

    /** One ingress user: one list entry in {@code security.users}, bound whole (see {@link ConfigLoader}). */
    record User(String name, String password, List<String> tokens, List<String> keys) {}

    record SecurityTls(String certFile, String keyFile, String clientCaFile) {}

    record SinkFile(RedisFile redis, Ack ack, Batch batch, Duration dedupeTtl, String dedupeKeyPrefix,
            String deadLetterKey, Retry retry, Breaker breaker) {}

    /** Where the Sentinel group is and how to talk to it and to its Redis nodes. */
    record RedisFile(String masterName, List<String> sentinels, String username, String password,
            String passwordFile, String sentinelUsername, String sentinelPassword, String sentinelPasswordFile,
            RedisTlsFile tls, Duration timeout, Duration connectTimeout, Duration sentinelHeartbeat,
            Duration sentinelTimeout) {}

    /** TLS towards the Redis nodes and the Sentinels alike. */
    record RedisTlsFile(Boolean enabled, String caFile, String certFile, String keyFile, Boolean verifyHostname) {}

    /** When a batch counts as written. */
    record Ack(String minReplicas, Duration waitTimeout) {}

    /** How much one Redis batch carries. */
    record Batch(Integer maxMessages, Units.DataSize maxBytes) {}

    /** {@code wait} in the file ({@code wait} cannot name a record component). */
    record Retry(Integer attempts, @JsonProperty("wait") Duration waitFor) {}

    record Breaker(Duration window, Integer minCalls, Double failureRate, Duration openWait, Duration maxHalfOpen) {}

    record SpillFile(String dir, Units.DataSize maxBytes, Units.DataSize segmentBytes, Units.DataSize maxRecordBytes,
            Duration flushMaxWait, Units.DataSize flushBytes, Units.DataSize reserveBytes) {}

    record Shutdown(Duration drainTimeout, Duration drainNotice) {}

    record MetricsFile(Graphite graphite) {}

    record Graphite(String host, Integer port, String prefix, Duration interval) {}

    /** The validated configuration: each setting given here, the rest at its default. */
    RelayConfig toConfig() {
        String relayName = or(name, RelayConfig.DEFAULT_NAME);
        Listeners ls = or(listeners, new Listeners(null, null, null, null, null));
        LineListener line = or(ls.line(), new LineListener(null, null, null, null, null, null));
        AdminListener admin = or(ls.admin(), new AdminListener(null, null, null, null, null));
        ListenerConfig lineListener = listener("listeners.line", new Listener(line.enabled(), line.host(), line.port(),
                line.tls()), RelayConfig.DEFAULT_LINE);
        String lineKey = or(line.key(), RelayConfig.DEFAULT_LINE_KEY);
        Graphite g = metrics == null ? null : metrics.graphite();
        GraphiteConfig graphite = g == null || g.host() == null ? null
                : validated("", () -> new GraphiteConfig(g.host(), or(g.port(), GraphiteConfig.DEFAULT_PORT),
                        or(g.prefix(), "spillway." + relayName), or(g.interval(), GraphiteConfig.DEFAULT_INTERVAL)));
        return new RelayConfig(relayName,
                listener("listeners.resp", ls.resp(), RelayConfig.DEFAULT_RESP),
                lineListener, lineKey,
                listener("listeners.http", ls.http(), RelayConfig.DEFAULT_HTTP),
                listener("listeners.admin", new Listener(admin.enabled(), admin.host(), admin.port(), admin.tls()),
                        RelayConfig.DEFAULT_ADMIN),
                or(admin.peers(), List.of()), agent(ls.agent()), toLimits(),
                SecuritySettings.toConfig(security, line.user(), lineListener.enabled(), lineKey), toSink(), toSpill(),
                shutdown == null ? RelayConfig.DEFAULT_DRAIN_TIMEOUT
                        : or(shutdown.drainTimeout(), RelayConfig.DEFAULT_DRAIN_TIMEOUT),
                shutdown == null ? RelayConfig.DEFAULT_DRAIN_NOTICE
                        : or(shutdown.drainNotice(), RelayConfig.DEFAULT_DRAIN_NOTICE),
                graphite, or(ioThreads, 0));
    }

    private static ListenerConfig agent(AgentListener a) {
        AgentListener v = or(a, new AgentListener(null, null, null));
        return listener("listeners.agent", new Listener(v.enabled(), v.host(), v.port(), false), RelayConfig.DEFAULT_AGENT);
    }

    private static ListenerConfig listener(String path, Listener l, ListenerConfig def) {
        Listener v = or(l, new Listener(null, null, null, null));
        return validated(path, () -> new ListenerConfig(or(v.enabled(), def.enabled()), or(v.host(), def.host()),
                or(v.port(), def.port()), or(v.tls(), def.tls())));
    }

    private Limits toLimits() {
        Limits d = Limits.defaults();
        LimitsFile l = or(limits, new LimitsFile(null, null, null, null, null, null, null, null));
        return new Limits(or(l.maxValueBytes(), d.maxValueBytes()), or(l.maxRequestBytes(), d.maxRequestBytes()),
                or(l.maxMultibulk(), d.maxMultibulk()), or(l.maxInlineBytes(), d.maxInlineBytes()),
                or(l.maxInFlightPerConnection(), d.maxInFlightPerConnection()),
                or(l.maxInFlightTotal(), d.maxInFlightTotal()), or(l.maxConnections(), d.maxConnections()),
                or(l.idleTimeout(), d.idleTimeout()));
    }

    private SinkConfig toSink() {
        SinkConfig.Builder b = SinkConfig.builder();
        if (sink != null) {
            SinkFile s = sink;
            RedisFile r = s.redis();
            if (r != null) {
                set(r.masterName(), b::masterName);
                set(r.sentinels(), b::sentinels);
                set(r.username(), b::username);
                set(Secrets.valueOrFile("sink.redis.password", r.password(), r.passwordFile()), b::password);
                set(r.sentinelUsername(), b::sentinelUsername);
                set(Secrets.valueOrFile("sink.redis.sentinelPassword", r.sentinelPassword(),
                        r.sentinelPasswordFile()), b::sentinelPassword);
                set(r.tls(), t -> b.tls(redisTls(t)));
                set(r.timeout(), b::timeout);
                set(r.connectTimeout(), b::connectTimeout);
                set(r.sentinelHeartbeat(), b::sentinelHeartbeat);
                set(r.sentinelTimeout(), b::sentinelTimeout);
            }
            if (s.ack() != null) {
                set(s.ack().minReplicas(), v -> b.minReplicas(minReplicas(v)));
                set(s.ack().waitTimeout(), b::waitTimeout);
            }
            if (s.batch() != null) {
                set(s.batch().maxMessages(), b::maxBatch);
                set(s.batch().maxBytes(), v -> b.maxBatchBytes(v.intBytes()));
            }
            set(s.deadLetterKey(), b::deadLetterKey);
            set(s.dedupeTtl(), b::dedupeTtl);
            set(s.dedupeKeyPrefix(), b::dedupeKeyPrefix);
            if (s.retry() != null) {
                set(s.retry().attempts(), b::retryAttempts);
                set(s.retry().waitFor(), b::retryWait);
            }
            if (s.breaker() != null) {
                Breaker k = s.breaker();
                set(k.window(), b::breakerWindow);
                set(k.minCalls(), b::breakerMinCalls);
                set(k.failureRate(), v -> b.breakerFailureRate(v.floatValue()));
                set(k.openWait(), b::breakerOpenWait);
                set(k.maxHalfOpen(), b::breakerMaxHalfOpen);
            }
        }
        return validated("", b::build);
    }

    /** The TLS material when {@code enabled}; null when off (then no file may be named). */
    private static RedisTls redisTls(RedisTlsFile t) {
        if (!or(t.enabled(), false)) {
            for (String[] named : new String[][] {{"caFile", t.caFile()}, {"certFile", t.certFile()},
                    {"keyFile", t.keyFile()}}) {
                if (named[1] != null) {
                    throw new ConfigException("sink.redis.tls." + named[0] + ": " + named[1]
                            + " (expected: only with sink.redis.tls.enabled: true)");
                }
            }
            return null;
        }
        return validated("", () -> RedisTls.of(path(t.caFile()), path(t.certFile()), path(t.keyFile()),
                or(t.verifyHostname(), RedisTls.DEFAULT_VERIFY_HOSTNAME)));
    }

    private static Path path(String file) {
        return file == null ? null : Path.of(file);
    }

    /** {@code all} or a number of replicas >= 0. */
    private static int minReplicas(String v) {
        if (v.trim().equalsIgnoreCase("all")) {
            return SinkConfig.ALL_REPLICAS;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new ConfigException("sink.ack.minReplicas: " + v + " (expected: >= 0 or 'all')");
    }

    private SpillLogConfig toSpill() {
        SpillFile s = or(spill, new SpillFile(null, null, null, null, null, null, null));
        SpillLogConfig.Builder b = SpillLogConfig.builder(Path.of(or(s.dir(), RelayConfig.DEFAULT_SPILL_DIR)));
        set(s.maxBytes(), v -> b.maxBytes(v.bytes()));
        set(s.segmentBytes(), v -> b.segmentBytes(v.bytes()));
        set(s.maxRecordBytes(), v -> b.maxRecordBytes(v.intBytes()));
        set(s.flushMaxWait(), b::flushMaxWait);
        set(s.flushBytes(), v -> b.flushBytes(v.intBytes()));
        set(s.reserveBytes(), v -> b.reserveBytes(v.bytes()));
        return validated("spill", b::build);
    }

    private static <T> T or(T value, T otherwise) {
        return value != null ? value : otherwise;
    }

    private static <T> void set(T value, Consumer<T> setter) {
        if (value != null) {
            setter.accept(value);
        }
    }

    /** Builds, putting the section's path in front of a message that does not name it already. */
    private static <T> T validated(String path, Supplier<T> build) {
        try {
            return build.get();
        } catch (ConfigException | IllegalArgumentException e) {
            String prefix = path.isEmpty() ? "" : path + ".";
            String msg = e.getMessage();
            throw new ConfigException(prefix.isEmpty() || msg.startsWith(prefix) ? msg : prefix + msg, e);
        }
    }
}
