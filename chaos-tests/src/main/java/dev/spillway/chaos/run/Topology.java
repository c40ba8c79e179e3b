package dev.spillway.chaos.run;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What the chaos suite needs of a running Spillway topology, whatever runs it: where producers
 * connect, which nodes exist, the current master (through Sentinel), and the faults.
 * Node names: {@code redis-1..}, {@code sentinel-1..}, {@code relay-1..}.
 */
public interface Topology extends Closeable {

    /** Producers' entry points (HAProxy): host and the RESP, line and HTTP ports. */
    String host();

    int respPort();

    int linePort();

    int httpPort();

    List<String> redisNodes();

    List<String> sentinelNodes();

    List<String> relayNodes();

    /** Where a Redis or Sentinel node answers, {@code host:port} (for commands, subscriptions and INFO). */
    String address(String node);

    /** The master's node name as the Sentinels name it now, or null. */
    String currentMaster();

    /** Waits until the Sentinels agree on a master other than {@code old}; returns it. */
    default String awaitFailoverFrom(String old, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String m = currentMaster();
            if (m != null && !m.equals(old)) {
                return m;
            }
            Fault.sleep(100);
        }
        throw new IOException("no failover away from " + old + " within " + timeout);
    }

    /** Waits until the group can take acknowledged writes (agreed master with a replica online). */
    String awaitHealthy(Duration timeout) throws IOException;

    void kill(String node);

    void freeze(String node);

    void resume(String node);

    /** {@code SHUTDOWN NOSAVE} for Redis; SIGTERM for others. */
    void shutdownNoSave(String node);

    /** {@code SHUTDOWN} (persisting) for Redis; SIGTERM for others. */
    void shutdown(String node);

    /** Starts a stopped node again on its configuration and data. */
    void restart(String node) throws IOException;

    boolean isAlive(String node);

    /** Each live relay's {@code /health} as parsed JSON fields: status, mode, pendingMessages. */
    Map<String, Map<String, Object>> relayHealth();

    /** The whole list {@code key}, read from the current master. */
    List<byte[]> readList(String key) throws IOException;

    /**
     * Where relay {@code relay}'s own spill disk is mounted on this machine (a small file system
     * holding only its spill directory, which a fault may fill), or empty when it has none here.
     */
    default java.util.Optional<java.nio.file.Path> spillDisk(String relay) {
        return java.util.Optional.empty();
    }
}
