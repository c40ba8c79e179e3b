package dev.spillway.chaos.server;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.RelayServer;
import dev.spillway.relay.config.ConfigLoader;
import dev.spillway.relay.config.RelayConfig;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Starts an in-process relay on free ports against a Sentinel group, with test-sized timeouts. */
final class RelayFixture {

    private RelayFixture() {}

    static RelayConfig config(SentinelGroup group, Path spillDir, Map<String, String> overrides) {
        Map<String, String> env = new HashMap<>();
        env.put("SPILLWAY_LISTENERS_RESP_PORT", "0");
        env.put("SPILLWAY_LISTENERS_LINE_PORT", "0");
        env.put("SPILLWAY_LISTENERS_HTTP_PORT", "0");
        env.put("SPILLWAY_LISTENERS_ADMIN_PORT", "0");
        env.put("SPILLWAY_LISTENERS_AGENT_PORT", "0");
        env.put("SPILLWAY_SINK_REDIS_SENTINELS", String.join(",", group.sentinelAddresses()));
        env.put("SPILLWAY_SINK_REDIS_TIMEOUT", "500ms");
        env.put("SPILLWAY_SINK_ACK_WAIT_TIMEOUT", "300ms");
        env.put("SPILLWAY_SPILL_DIR", spillDir.toString());
        env.put("SPILLWAY_SHUTDOWN_DRAIN_NOTICE", "0s"); // no HAProxy in front: nobody to give notice to
        env.putAll(overrides);
        return ConfigLoader.load(null, env);
    }

    static RelayServer start(SentinelGroup group, Path spillDir, Map<String, String> overrides) throws Exception {
        RelayServer server = RelayServer.start(config(group, spillDir, overrides), new MetricRegistry());
        long deadline = System.currentTimeMillis() + 20_000;
        while (!server.relay().redisConnected() && System.currentTimeMillis() < deadline) {
            Thread.onSpinWait();
            java.util.concurrent.TimeUnit.MILLISECONDS.sleep(20);
        }
        return server;
    }

    /** The list {@code key} on the master the group names once it is healthy. */
    static java.util.List<String> list(SentinelGroup group, String key) throws Exception {
        try (redis.clients.jedis.Jedis j = new redis.clients.jedis.Jedis("127.0.0.1",
                group.awaitHealthy(java.time.Duration.ofSeconds(10)).port(), 5_000)) {
            return j.lrange(key, 0, -1);
        }
    }

    static int port(RelayServer server, String listener) {
        return server.addresses().get(listener).getPort();
    }
}
