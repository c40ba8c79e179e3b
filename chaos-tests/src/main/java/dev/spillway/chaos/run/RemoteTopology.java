package dev.spillway.chaos.run;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * A topology this machine did not start: given Sentinels, HAProxy and relay admin addresses. It
 * can only inject what the network allows — {@code SHUTDOWN NOSAVE} of the current master and
 * {@code SENTINEL FAILOVER} — and cannot restart anything; signals need the local cluster
 * ({@link ProcessTopology}).
 */
public final class RemoteTopology implements Topology {

    private final String host;
    private final int resp;
    private final int line;
    private final int http;
    private final List<HostAndPort> sentinels;
    private final List<String> relayAdmins;

    public RemoteTopology(String host, int resp, int line, int http, List<String> sentinels, List<String> relayAdmins) {
        this.host = host;
        this.resp = resp;
        this.line = line;
        this.http = http;
        this.sentinels = sentinels.stream().map(HostAndPort::from).toList();
        this.relayAdmins = relayAdmins;
    }

    private HostAndPort master() {
        for (HostAndPort s : sentinels) {
            try (Jedis j = new Jedis(s, redis.clients.jedis.DefaultJedisClientConfig.builder().timeoutMillis(1000)
                    .build())) {
                List<String> m = j.sentinelGetMasterAddrByName("mymaster");
                if (m != null && m.size() == 2) {
                    return new HostAndPort(m.get(0), Integer.parseInt(m.get(1)));
                }
            } catch (RuntimeException e) {
                // try the next Sentinel
            }
        }
        return null;
    }

    @Override
    public String host() {
        return host;
    }

    @Override
    public int respPort() {
        return resp;
    }

    @Override
    public int linePort() {
        return line;
    }

    @Override
    public int httpPort() {
        return http;
    }

    @Override
    public List<String> redisNodes() {
        HostAndPort m = master();
        return m == null ? List.of() : List.of(m.toString());
    }

    @Override
    public List<String> sentinelNodes() {
        return sentinels.stream().map(HostAndPort::toString).toList();
    }

    @Override
    public List<String> relayNodes() {
        return relayAdmins;
    }

    /** Remote nodes are named by their addresses. */
    @Override
    public String address(String node) {
        return node;
    }

    @Override
    public String currentMaster() {
        HostAndPort m = master();
        return m == null ? null : m.toString();
    }

    @Override
    public String awaitHealthy(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            HostAndPort m = master();
            if (m != null) {
                try (Jedis j = new Jedis(m)) {
                    String info = j.info("replication");
                    if (info.contains("role:master") && !info.contains("connected_slaves:0")) {
                        return m.toString();
                    }
                } catch (RuntimeException e) {
                    // not yet
                }
            }
            Fault.sleep(200);
        }
        throw new IOException("no healthy master within " + timeout);
    }

    private static UnsupportedOperationException remote(String what) {
        return new UnsupportedOperationException(what + " needs the local cluster (signals to processes); "
                + "against remote addresses only shutdown-master and manual-failover are possible");
    }

    @Override
    public void kill(String node) {
        throw remote("kill");
    }

    @Override
    public void freeze(String node) {
        throw remote("freeze");
    }

    @Override
    public void resume(String node) {
        throw remote("resume");
    }

    @Override
    public void shutdownNoSave(String node) {
        try (Jedis j = new Jedis(HostAndPort.from(node))) {
            j.shutdown(redis.clients.jedis.params.ShutdownParams.shutdownParams().nosave());
        } catch (RuntimeException expected) {
            // the connection drops as the server goes away
        }
    }

    @Override
    public void shutdown(String node) {
        throw remote("shutdown");
    }

    @Override
    public void restart(String node) {
        // cannot restart a remote node: its operator's supervisor does
    }

    @Override
    public boolean isAlive(String node) {
        return true;
    }

    @Override
    public Map<String, Map<String, Object>> relayHealth() {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (String admin : relayAdmins) {
            RelayHealth.read(admin).ifPresent(h -> out.put(admin, h));
        }
        return out;
    }

    @Override
    public List<byte[]> readList(String key) throws IOException {
        HostAndPort m = HostAndPort.from(awaitHealthy(Duration.ofSeconds(30)));
        try (Jedis j = new Jedis(m)) {
            return RelayHealth.readList(j, key);
        }
    }

    @Override
    public void close() {
        // nothing of ours to stop
    }
}
