package dev.spillway.chaos.run;

import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.Jedis;

/** The process backend: a {@link LocalCluster} of real redis-server, redis-sentinel, relay and HAProxy processes. */
public final class ProcessTopology implements Topology {

    private final LocalCluster cluster;
    private final boolean owned;

    /** @param owned close() stops the cluster (tests); false for a cluster {@code up} started */
    public ProcessTopology(LocalCluster cluster, boolean owned) {
        this.cluster = cluster;
        this.owned = owned;
    }

    public LocalCluster cluster() {
        return cluster;
    }

    private Node node(String name) {
        return cluster.allNodes().stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no node " + name));
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int respPort() {
        return cluster.state().respPort();
    }

    @Override
    public int linePort() {
        return cluster.state().linePort();
    }

    @Override
    public int httpPort() {
        return cluster.state().httpPort();
    }

    @Override
    public List<String> redisNodes() {
        return cluster.group().redisNodes().stream().map(Node::name).toList();
    }

    @Override
    public List<String> sentinelNodes() {
        return cluster.group().sentinelNodes().stream().map(Node::name).toList();
    }

    @Override
    public List<String> relayNodes() {
        return cluster.relays().stream().map(Node::name).toList();
    }

    @Override
    public String address(String node) {
        return node(node).address(); // containers use host networking: the same address
    }

    @Override
    public String currentMaster() {
        return cluster.group().currentMaster().map(Node::name).orElse(null);
    }

    @Override
    public String awaitFailoverFrom(String old, Duration timeout) throws IOException {
        return cluster.group().awaitFailoverFrom(node(old), timeout).name();
    }

    @Override
    public String awaitHealthy(Duration timeout) throws IOException {
        return cluster.group().awaitHealthy(timeout).name();
    }

    @Override
    public void kill(String node) {
        node(node).kill();
    }

    @Override
    public void freeze(String node) {
        node(node).freeze();
    }

    @Override
    public void resume(String node) {
        node(node).resume();
    }

    @Override
    public void shutdownNoSave(String node) {
        Node n = node(node);
        if (n.kind() == Node.Kind.REDIS) {
            n.cliQuiet("SHUTDOWN", "NOSAVE");
            n.terminate(Duration.ofSeconds(10));
        } else {
            n.terminate(Duration.ofSeconds(15));
        }
    }

    @Override
    public void shutdown(String node) {
        node(node).shutdown();
    }

    @Override
    public void restart(String node) throws IOException {
        Node n = node(node);
        if (!n.isAlive()) {
            n.start();
            cluster.group().configure(n); // a Sentinel forgets SENTINEL DEBUG timers when it restarts
            cluster.saveState();
        }
    }

    @Override
    public boolean isAlive(String node) {
        return node(node).isAlive();
    }

    @Override
    public Map<String, Map<String, Object>> relayHealth() {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (Node r : cluster.relays()) {
            if (r.isAlive() && !r.isFrozen()) {
                RelayHealth.read("127.0.0.1:" + r.probePort()).ifPresent(h -> out.put(r.name(), h));
            }
        }
        return out;
    }

    @Override
    public List<byte[]> readList(String key) throws IOException {
        Node master = cluster.group().awaitHealthy(Duration.ofSeconds(30));
        try (Jedis j = new Jedis("127.0.0.1", master.port(), 10_000)) {
            return RelayHealth.readList(j, key);
        }
    }

    @Override
    public java.util.Optional<java.nio.file.Path> spillDisk(String relay) {
        return cluster.spillDisk(relay);
    }

    @Override
    public void close() {
        if (owned) {
            cluster.close();
        }
    }
}
