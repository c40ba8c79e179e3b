package dev.spillway.relay.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.spill.SpillLogConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a relay's YAML configuration; each setting may be overridden by an environment variable
 * named {@code SPILLWAY_} + its path in upper snake case ({@code sink.minReplicas} →
 * {@code SPILLWAY_SINK_MIN_REPLICAS}; lists comma-separated). Unknown settings, wrong types and
 * invalid values fail with a message naming the setting, the value and what is expected.
 * Defaults are not repeated here: an absent setting leaves the config object's own default.
 *
 * <p>Not thread-safe; use once.
 */
public final class ConfigLoader {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB)?");

    private final Map<String, String> env;
    private final Set<String> knownEnv = new TreeSet<>();

    private ConfigLoader(Map<String, String> env) {
        this.env = env;
    }

    /** Loads {@code file} (null: defaults only) with overrides from {@code env}. */
    public static RelayConfig load(Path file, Map<String, String> env) {
        JsonNode root;
        try {
            root = file == null ? YAML.createObjectNode() : YAML.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration " + file + ": " + e.getMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            root = YAML.createObjectNode();
        }
        if (!root.isObject()) {
            throw new ConfigException("configuration " + file + ": expected a YAML mapping at the top");
        }
        ConfigLoader loader = new ConfigLoader(env);
        return loader.build(loader.new Section("", root));
    }

    private RelayConfig build(Section root) {
        String name = root.string("name").orElse(RelayConfig.DEFAULT_NAME);
        int ioThreads = root.integer("ioThreads").orElse(0);
        Section listeners = root.section("listeners");
        ListenerConfig resp = listener(listeners.section("resp"), RelayConfig.DEFAULT_RESP);
        Section lineSection = listeners.section("line");
        String lineKey = lineSection.string("key").orElse(RelayConfig.DEFAULT_LINE_KEY);
        ListenerConfig line = listener(lineSection, RelayConfig.DEFAULT_LINE);
        ListenerConfig http = listener(listeners.section("http"), RelayConfig.DEFAULT_HTTP);
        Section adminSection = listeners.section("admin");
        List<String> peers = adminSection.stringList("peers").orElse(List.of());
        ListenerConfig admin = listener(adminSection, RelayConfig.DEFAULT_ADMIN);
        listeners.rejectUnknown();

        Section l = root.section("limits");
        Limits d = Limits.defaults();
        Limits limits = new Limits(
                l.integer("maxValueBytes").orElse(d.maxValueBytes()),
                l.integer("maxRequestBytes").orElse(d.maxRequestBytes()),
                l.integer("maxMultibulk").orElse(d.maxMultibulk()),
                l.integer("maxInlineBytes").orElse(d.maxInlineBytes()),
                l.integer("maxInFlightPerConnection").orElse(d.maxInFlightPerConnection()),
                l.integer("maxInFlightTotal").orElse(d.maxInFlightTotal()),
                l.integer("maxConnections").orElse(d.maxConnections()),
                l.duration("idleTimeout").orElse(d.idleTimeout()));
        l.rejectUnknown();

        Section security = root.section("security");
        String password = security.string("password").orElse(null);
        String httpToken = security.string("httpToken").orElse(null);
        security.rejectUnknown();

        SinkConfig sink = sink(root.section("sink"));
        SpillLogConfig spill = spill(root.section("spill"));
        Section shutdown = root.section("shutdown");
        Duration drain = shutdown.duration("drainTimeout").orElse(RelayConfig.DEFAULT_DRAIN_TIMEOUT);
        shutdown.rejectUnknown();
        Section metrics = root.section("metrics");
        Section g = metrics.section("graphite");
        Optional<String> graphiteHost = g.string("host");
        int graphitePort = g.integer("port").orElse(GraphiteConfig.DEFAULT_PORT);
        String graphitePrefix = g.string("prefix").orElse("spillway." + name);
        Duration graphiteInterval = g.duration("interval").orElse(GraphiteConfig.DEFAULT_INTERVAL);
        g.rejectUnknown();
        metrics.rejectUnknown();
        GraphiteConfig graphite = graphiteHost.map(h -> new GraphiteConfig(h, graphitePort, graphitePrefix,
                graphiteInterval)).orElse(null);
        root.rejectUnknown();
        rejectUnknownEnv();
        return new RelayConfig(name, resp, line, lineKey, http, admin, peers, limits, password, httpToken, sink, spill, drain,
                graphite, ioThreads);
    }

    private ListenerConfig listener(Section s, ListenerConfig def) {
        ListenerConfig c = wrap(s.path, () -> new ListenerConfig(s.bool("enabled").orElse(def.enabled()),
                s.string("host").orElse(def.host()), s.integer("port").orElse(def.port())));
        s.rejectUnknown();
        return c;
    }

    private SinkConfig sink(Section s) {
        SinkConfig.Builder b = SinkConfig.builder();
        s.string("masterName").ifPresent(b::masterName);
        s.stringList("sentinels").ifPresent(b::sentinels);
        s.string("password").ifPresent(b::password);
        s.string("sentinelPassword").ifPresent(b::sentinelPassword);
        s.string("minReplicas").ifPresent(v -> b.minReplicas(minReplicas(v)));
        s.string("deadLetterKey").ifPresent(b::deadLetterKey);
        s.duration("sentinelHeartbeat").ifPresent(b::sentinelHeartbeat);
        s.duration("sentinelTimeout").ifPresent(b::sentinelTimeout);
        s.duration("waitTimeout").ifPresent(b::waitTimeout);
        s.duration("timeout").ifPresent(b::timeout);
        s.duration("connectTimeout").ifPresent(b::connectTimeout);
        s.integer("maxBatch").ifPresent(b::maxBatch);
        s.size("maxBatchBytes").ifPresent(v -> b.maxBatchBytes((int) Math.min(Integer.MAX_VALUE, v)));
        s.duration("dedupeTtl").ifPresent(b::dedupeTtl);
        s.string("dedupeKeyPrefix").ifPresent(b::dedupeKeyPrefix);
        Section retry = s.section("retry");
        retry.integer("attempts").ifPresent(b::retryAttempts);
        retry.duration("wait").ifPresent(b::retryWait);
        retry.rejectUnknown();
        Section breaker = s.section("breaker");
        breaker.duration("window").ifPresent(b::breakerWindow);
        breaker.integer("minCalls").ifPresent(b::breakerMinCalls);
        breaker.number("failureRate").ifPresent(v -> b.breakerFailureRate(v.floatValue()));
        breaker.duration("openWait").ifPresent(b::breakerOpenWait);
        breaker.duration("maxHalfOpen").ifPresent(b::breakerMaxHalfOpen);
        breaker.rejectUnknown();
        s.rejectUnknown();
        return wrap("", b::build);
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
        throw new ConfigException("sink.minReplicas: " + v + " (expected: >= 0 or 'all')");
    }

    private SpillLogConfig spill(Section s) {
        SpillLogConfig.Builder b = SpillLogConfig.builder(Path.of(s.string("dir").orElse(RelayConfig.DEFAULT_SPILL_DIR)));
        s.size("maxBytes").ifPresent(b::maxBytes);
        s.size("segmentBytes").ifPresent(b::segmentBytes);
        s.size("maxRecordBytes").ifPresent(v -> b.maxRecordBytes((int) Math.min(Integer.MAX_VALUE, v)));
        s.duration("flushMaxWait").ifPresent(b::flushMaxWait);
        s.size("flushBytes").ifPresent(v -> b.flushBytes((int) Math.min(Integer.MAX_VALUE, v)));
        s.size("reserveBytes").ifPresent(b::reserveBytes);
        s.rejectUnknown();
        return wrap("spill.", b::build);
    }

    /** Prefixes a validation message with the section path when the object does not name it. */
    private static <T> T wrap(String prefix, java.util.function.Supplier<T> build) {
        try {
            return build.get();
        } catch (ConfigException | IllegalArgumentException e) {
            String msg = e.getMessage();
            String fullPrefix = prefix.isEmpty() || prefix.endsWith(".") ? prefix : prefix + ".";
            throw new ConfigException(msg.startsWith(fullPrefix) || prefix.isEmpty() ? msg : fullPrefix + msg, e);
        }
    }

    private void rejectUnknownEnv() {
        for (String k : env.keySet()) {
            if (k.startsWith("SPILLWAY_") && !knownEnv.contains(k) && !k.equals("SPILLWAY_LOG_LEVEL")) {
                throw new ConfigException("environment variable " + k + ": unknown setting (known: "
                        + String.join(", ", knownEnv) + ")");
            }
        }
    }

    static String envName(String path) {
        return "SPILLWAY_" + path.replace('.', '_').replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    /** One mapping of the YAML tree; remembers which keys were read so that typos are caught. */
    private final class Section {
        final String path;
        final JsonNode node;
        final Set<String> read = new LinkedHashSet<>();

        Section(String path, JsonNode node) {
            this.path = path;
            this.node = node == null || node.isNull() ? MissingNode.getInstance() : node;
            if (!this.node.isMissingNode() && !this.node.isObject()) {
                throw new ConfigException(path + ": " + node + " (expected: a mapping)");
            }
        }

        String full(String key) {
            return path.isEmpty() ? key : path + "." + key;
        }

        Section section(String key) {
            read.add(key);
            return new Section(full(key), node.get(key));
        }

        /** The env override or the YAML value, as text; empty when neither is set. */
        private Optional<String> raw(String key, Consumer<JsonNode> typeCheck) {
            read.add(key);
            String envName = envName(full(key));
            knownEnv.add(envName);
            String e = env.get(envName);
            if (e != null) {
                return Optional.of(e);
            }
            JsonNode v = node.get(key);
            if (v == null || v.isNull()) {
                return Optional.empty();
            }
            typeCheck.accept(v);
            if (v.isArray()) {
                List<String> items = new ArrayList<>();
                v.forEach(i -> items.add(i.asText()));
                return Optional.of(String.join(",", items));
            }
            return Optional.of(v.asText());
        }

        private ConfigException bad(String key, Object value, String expected) {
            return new ConfigException(full(key) + ": " + value + " (expected: " + expected + ")");
        }

        Optional<String> string(String key) {
            return raw(key, v -> {
                if (!v.isValueNode()) {
                    throw bad(key, v, "a string");
                }
            });
        }

        Optional<List<String>> stringList(String key) {
            return raw(key, v -> {
                if (!v.isArray() && !v.isTextual()) {
                    throw bad(key, v, "a list of strings");
                }
            }).map(s -> Arrays.stream(s.split(",")).map(String::trim).filter(x -> !x.isEmpty()).toList());
        }

        Optional<Integer> integer(String key) {
            return raw(key, v -> { }).map(s -> {
                try {
                    return Integer.parseInt(s.trim());
                } catch (NumberFormatException e) {
                    throw bad(key, "'" + s + "'", "an integer");
                }
            });
        }

        Optional<Double> number(String key) {
            return raw(key, v -> { }).map(s -> {
                try {
                    return Double.parseDouble(s.trim());
                } catch (NumberFormatException e) {
                    throw bad(key, "'" + s + "'", "a number");
                }
            });
        }

        Optional<Boolean> bool(String key) {
            return raw(key, v -> { }).map(s -> switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "true", "yes", "on" -> true;
                case "false", "no", "off" -> false;
                default -> throw bad(key, "'" + s + "'", "true or false");
            });
        }

        Optional<Duration> duration(String key) {
            return raw(key, v -> { }).map(s -> {
                Matcher m = DURATION.matcher(s.trim());
                if (!m.matches()) {
                    throw bad(key, "'" + s + "'", "a duration such as 500ms, 10s, 5m, 1h, 7d");
                }
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            });
        }

        Optional<Long> size(String key) {
            return raw(key, v -> { }).map(s -> {
                Matcher m = SIZE.matcher(s.trim());
                if (!m.matches()) {
                    throw bad(key, "'" + s + "'", "a size in bytes, optionally with KiB, MiB or GiB");
                }
                long n = Long.parseLong(m.group(1));
                String unit = m.group(2) == null ? "B" : m.group(2);
                return switch (unit) {
                    case "KiB" -> n << 10;
                    case "MiB" -> n << 20;
                    case "GiB" -> n << 30;
                    default -> n;
                };
            });
        }

        void rejectUnknown() {
            Iterator<String> names = node.fieldNames();
            while (names.hasNext()) {
                String k = names.next();
                if (!read.contains(k)) {
                    throw new ConfigException(full(k) + ": unknown setting (known here: " + String.join(", ", read) + ")");
                }
            }
        }
    }
}
