package dev.spillway.chaos.topology;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Writes every node's configuration: Redis and Sentinel from {@code sentinel-config/}'s
 * templates, HAProxy from {@code haproxy/haproxy.cfg.template}, the relay's YAML from a map.
 * A template's {@code ${NAME}} placeholders must all be filled (outside comments).
 *
 * <p>Thread-safe (stateless).
 */
final class ConfigRenderer {

    private ConfigRenderer() {}

    /**
     * {@code redis.conf} of one node; {@code masterPort} 0 for the master, else the master it
     * replicates; with {@code security} (else null) {@code port} is its TLS port.
     */
    static String redis(int port, Path dir, int minReplicasMaxLagSeconds, int masterPort, GroupSecurity security)
            throws IOException {
        return fill(template("sentinel-config/redis.conf.template"), Map.of(
                "PORT", String.valueOf(security == null ? port : 0),
                "TLS_PORT", String.valueOf(security == null ? 0 : port),
                "DIR", dir.toString(), "MIN_REPLICAS_MAX_LAG", String.valueOf(minReplicasMaxLagSeconds),
                "REPLICAOF", masterPort == 0 ? "" : "replicaof 127.0.0.1 " + masterPort,
                "SECURITY", security == null ? "" : security.redisDirectives()));
    }

    /**
     * {@code sentinel.conf} of one Sentinel monitoring the master on {@code masterPort}; with
     * {@code security} (else null) {@code port} is its TLS port.
     */
    static String sentinel(int port, Path dir, int masterPort, int downAfterMillis, int failoverTimeoutMillis,
            GroupSecurity security) throws IOException {
        return fill(template("sentinel-config/sentinel.conf.template"), Map.of(
                "PORT", String.valueOf(security == null ? port : 0),
                "TLS_PORT", String.valueOf(security == null ? 0 : port),
                "DIR", dir.toString(), "MASTER_PORT", String.valueOf(masterPort),
                "DOWN_AFTER_MS", String.valueOf(downAfterMillis),
                "FAILOVER_TIMEOUT_MS", String.valueOf(failoverTimeoutMillis),
                "SECURITY", security == null ? "" : security.sentinelDirectives(SentinelGroup.MASTER_NAME)));
    }

    /** Writes a relay's YAML: its listeners, Sentinels and spill directory, then {@code overrides} merged in. */
    static void writeRelay(Path yaml, String name, Ports.Relay p, List<String> sentinels, Path spill,
            List<String> peers, Map<String, Object> overrides) throws IOException {
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("name", name);
        cfg.put("listeners", Map.of(
                "resp", Map.of("host", "127.0.0.1", "port", p.resp()),
                "line", Map.of("host", "127.0.0.1", "port", p.line()),
                "http", Map.of("host", "127.0.0.1", "port", p.http()),
                "admin", Map.of("host", "127.0.0.1", "port", p.admin(), "peers", peers),
                "agent", Map.of("host", "127.0.0.1", "port", p.agent())));
        cfg.put("sink", new LinkedHashMap<>(Map.of("redis", new LinkedHashMap<>(Map.of("sentinels", sentinels)))));
        cfg.put("spill", new LinkedHashMap<>(Map.of("dir", spill.toString())));
        merge(cfg, overrides);
        new ObjectMapper(new YAMLFactory()).writeValue(yaml.toFile(), cfg);
    }

    /** {@code from} merged into {@code into}: maps key by key, at every depth; other values replace. */
    @SuppressWarnings("unchecked")
    static void merge(Map<String, Object> into, Map<String, Object> from) {
        for (Map.Entry<String, Object> e : from.entrySet()) {
            Object existing = into.get(e.getKey());
            if (existing instanceof Map<?, ?> a && e.getValue() instanceof Map<?, ?> b) {
                Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) a);
                merge(copy, (Map<String, Object>) b);
                into.put(e.getKey(), copy);
            } else {
                into.put(e.getKey(), e.getValue());
            }
        }
    }

    /** The frontends' ports and runtime socket of HAProxy. */
    record HaproxyFrontends(int resp, int line, int http, int stats, int passthrough, String runtimeSocket) {}

    /**
     * {@code haproxy.cfg}: relay i is {@code relay-i} in each relay backend, health-checked on its
     * admin port and asked about new connections on its agent port; the passthrough backend lists
     * every Redis node.
     */
    static String haproxy(List<Ports.Relay> relays, List<Node> redis, HaproxyFrontends f) throws IOException {
        StringBuilder redisServers = new StringBuilder();
        for (Node r : redis) {
            redisServers.append("    server ").append(r.name()).append(" 127.0.0.1:").append(r.port())
                    .append(" check inter 1s\n");
        }
        return fill(template("haproxy/haproxy.cfg.template"), Map.ofEntries(Map.entry("BIND", "127.0.0.1"),
                Map.entry("PASSTHROUGH_PORT", String.valueOf(f.passthrough())),
                Map.entry("REDIS_SERVERS", redisServers.toString().stripTrailing()),
                Map.entry("RESP_PORT", String.valueOf(f.resp())),
                Map.entry("LINE_PORT", String.valueOf(f.line())), Map.entry("HTTP_PORT", String.valueOf(f.http())),
                Map.entry("STATS_PORT", String.valueOf(f.stats())), Map.entry("RUNTIME_SOCKET", f.runtimeSocket()),
                Map.entry("RESP_SERVERS", relayServers(relays, Ports.Relay::resp)),
                Map.entry("LINE_SERVERS", relayServers(relays, Ports.Relay::line)),
                Map.entry("HTTP_SERVERS", relayServers(relays, Ports.Relay::http))));
    }

    private static String relayServers(List<Ports.Relay> relays, ToIntFunction<Ports.Relay> port) {
        StringBuilder servers = new StringBuilder();
        for (int i = 0; i < relays.size(); i++) {
            Ports.Relay p = relays.get(i);
            servers.append("    server relay-").append(i + 1).append(" 127.0.0.1:").append(port.applyAsInt(p))
                    .append(" check port ").append(p.admin()).append(" agent-check agent-port ").append(p.agent())
                    .append('\n');
        }
        return servers.toString().stripTrailing();
    }

    private static String template(String path) throws IOException {
        return Files.readString(Checkout.root().resolve(path));
    }

    static String fill(String template, Map<String, String> values) {
        String out = template;
        for (Map.Entry<String, String> e : values.entrySet()) {
            out = out.replace("${" + e.getKey() + "}", e.getValue());
        }
        for (String line : out.split("\n")) {
            if (!line.startsWith("#") && line.contains("${")) {
                throw new IllegalStateException("unfilled placeholder in template line: " + line);
            }
        }
        return out;
    }
}
