package dev.spillway.relay.config;

import java.time.Duration;

/** Where to push metrics in Graphite's plaintext protocol; absent (null) means no Graphite reporter. */
public record GraphiteConfig(String host, int port, String prefix, Duration interval) {

    public static final int DEFAULT_PORT = 2003;
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

    public GraphiteConfig {
        if (port <= 0 || port > 65535) {
            throw new ConfigException("metrics.graphite.port: " + port + " (expected: 1..65535)");
        }
        if (interval == null || interval.toMillis() < 1000) {
            throw new ConfigException("metrics.graphite.interval: " + interval + " (expected: >= 1s)");
        }
    }
}
