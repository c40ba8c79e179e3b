package dev.spillway.chaos.run;

import dev.spillway.chaos.topology.Checkout;
import dev.spillway.chaos.topology.ContainerRunner;
import dev.spillway.chaos.topology.Ports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * The compose backend: {@code deploy/compose/docker-compose.yml} brought up by Debian's
 * {@code docker-compose} under a project name of its own, every port chosen free and passed in
 * through the environment (which wins over the file's {@code .env}). Nodes are the compose
 * services ({@code redis-1..3}, {@code sentinel-1..3}, {@code relay-1..3}); faults go through
 * Docker: {@code docker kill} (SIGKILL), {@code docker pause}/{@code unpause}, {@code docker stop}
 * (SIGTERM), {@code docker-compose start}. {@link #close} runs {@code docker-compose down -v}.
 *
 * <p>Thread-safe: every call runs a command or opens its own connection.
 */
public final class ComposeTopology implements Topology {

    private static final List<String> REDIS = List.of("redis-1", "redis-2", "redis-3");
    private static final List<String> SENTINELS = List.of("sentinel-1", "sentinel-2", "sentinel-3");
    private static final List<String> RELAYS = List.of("relay-1", "relay-2", "relay-3");

    private final ComposeCli cli;
    private final String project;
    private final Map<String, String> env;
    private final Consumer<String> log;

    private ComposeTopology(Path composeFile, String project, Map<String, String> env, Consumer<String> log) {
        this.cli = new ComposeCli(composeFile, project, env);
        this.project = project;
        this.env = env;
        this.log = log;
    }

    /**
     * Brings the topology up ({@code up -d}) with free ports, the given relay image, this
     * machine's Redis and HAProxy images ({@link ContainerRunner#image}) and Sentinel timings
     * for tests (down-after 1 s), then waits until Docker reports every relay healthy (the
     * image's HEALTHCHECK), HAProxy takes connections and the group takes acknowledged writes.
     * On any failure what was started is taken down again.
     */
    public static ComposeTopology up(String project, String relayImage, Duration timeout, Consumer<String> log)
            throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RELAY_IMAGE", relayImage);
        env.put("REDIS_IMAGE", ContainerRunner.image("redis"));
        env.put("HAPROXY_IMAGE", ContainerRunner.image("haproxy"));
        env.put("MIN_REPLICAS_MAX_LAG", "2");
        env.put("SENTINEL_DOWN_AFTER_MS", "1000");
        env.put("SENTINEL_FAILOVER_TIMEOUT_MS", "3000");
        for (int i = 1; i <= 3; i++) {
            env.put("REDIS_" + i + "_PORT", free());
            env.put("SENTINEL_" + i + "_PORT", free());
            for (String listener : List.of("RESP", "LINE", "HTTP", "ADMIN", "AGENT")) {
                env.put("RELAY_" + i + "_" + listener + "_PORT", free());
            }
        }
        for (String listener : List.of("RESP", "LINE", "HTTP", "STATS", "RUNTIME", "PASSTHROUGH")) {
            env.put("HAPROXY_" + listener + "_PORT", free());
        }
        ComposeTopology t = new ComposeTopology(Checkout.root().resolve("deploy/compose/docker-compose.yml"), project,
                Map.copyOf(env), log);
        try {
            long start = System.nanoTime();
            t.compose("up", "-d");
            long created = System.nanoTime();
            t.awaitUp(timeout);
            log.accept(String.format("docker-compose up -d: %d ms; healthy %d ms later", (created - start) / 1_000_000,
                    (System.nanoTime() - created) / 1_000_000));
            return t;
        } catch (IOException | RuntimeException e) {
            try {
                log.accept("the services' last output:\n" + t.compose("logs", "--no-color", "--tail", "40"));
            } catch (IOException logsFailed) {
                e.addSuppressed(logsFailed);
            }
            t.close();
            throw e;
        }
    }

    private static String free() throws IOException {
        return String.valueOf(Ports.portOrFree(0));
    }

    private int port(String variable) {
        return Integer.parseInt(env.get(variable));
    }

    private void awaitUp(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (String relay : RELAYS) {
            while (true) {
                String health = cli.docker("inspect", "-f", "{{.State.Health.Status}}", containerId(relay)).strip();
                if (health.equals("healthy")) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException(relay + " is not healthy (docker: " + health + ") within " + timeout);
                }
                Fault.sleep(250);
            }
        }
        while (!relaysUpInHaproxy(stats())) {
            if (System.nanoTime() > deadline) {
                throw new IOException("HAProxy does not see every relay UP within " + timeout + ": " + stats());
            }
            Fault.sleep(250);
        }
        awaitHealthy(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        log.accept("compose project " + project + " up: HAProxy RESP 127.0.0.1:" + respPort() + ", master "
                + currentMaster());
    }

    /** True when every relay is UP in each of HAProxy's three relay backends (stats CSV rows). */
    private static boolean relaysUpInHaproxy(String csv) {
        return List.of("relays_resp", "relays_line", "relays_http").stream().allMatch(backend -> RELAYS.stream()
                .allMatch(r -> csv.lines().anyMatch(l -> l.startsWith(backend + "," + r + ",") && l.contains(",UP,"))));
    }

    /** HAProxy's stats as CSV, or "" while it does not answer. */
    private String stats() {
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", port("HAPROXY_STATS_PORT"))) {
            s.setSoTimeout(2000);
            s.getOutputStream().write("GET /;csv HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException notYet) {
            return "";
        }
    }

    /** The container id of {@code service}: {@link ComposeCli#containerId}. */
    public String containerId(String service) throws IOException {
        return cli.containerId(service);
    }

    /** {@code docker-compose -p <project> -f <file> args...}; its output. */
    public String compose(String... args) throws IOException {
        return cli.compose(args);
    }

    private static void unchecked(String what, IoAction action) {
        try {
            action.run();
        } catch (IOException e) {
            throw new IllegalStateException(what + ": " + e.getMessage(), e);
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    @Override
    public String host() {
        return "127.0.0.1";
    }

    @Override
    public int respPort() {
        return port("HAPROXY_RESP_PORT");
    }

    @Override
    public int linePort() {
        return port("HAPROXY_LINE_PORT");
    }

    @Override
    public int httpPort() {
        return port("HAPROXY_HTTP_PORT");
    }

    @Override
    public List<String> redisNodes() {
        return REDIS;
    }

    @Override
    public List<String> sentinelNodes() {
        return SENTINELS;
    }

    @Override
    public List<String> relayNodes() {
        return RELAYS;
    }

    @Override
    public String address(String node) {
        String[] kindAndIndex = node.split("-", 2);
        String variable = switch (kindAndIndex[0]) {
            case "redis" -> "REDIS_" + kindAndIndex[1] + "_PORT";
            case "sentinel" -> "SENTINEL_" + kindAndIndex[1] + "_PORT";
            case "relay" -> "RELAY_" + kindAndIndex[1] + "_ADMIN_PORT";
            default -> throw new IllegalArgumentException("no node " + node);
        };
        return "127.0.0.1:" + port(variable);
    }

    /** The Redis node the first answering Sentinel names as master, or null. */
    @Override
    public String currentMaster() {
        for (String s : SENTINELS) {
            try (Jedis j = new Jedis(HostAndPort.from(address(s)),
                    DefaultJedisClientConfig.builder().timeoutMillis(1000).build())) {
                List<String> m = j.sentinelGetMasterAddrByName(SentinelProbe.MASTER_NAME);
                if (m != null && m.size() == 2) {
                    String addr = m.get(0) + ":" + m.get(1);
                    return REDIS.stream().filter(r -> address(r).equals(addr)).findFirst().orElse(null);
                }
            } catch (RuntimeException e) {
                // this Sentinel is down or frozen: ask the next
            }
        }
        return null;
    }

    /** Waits until the Sentinels name a master that says it is one and has a replica online. */
    @Override
    public String awaitHealthy(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no master named";
        while (System.nanoTime() < deadline) {
            String m = currentMaster();
            if (m != null) {
                try (Jedis j = new Jedis(HostAndPort.from(address(m)),
                        DefaultJedisClientConfig.builder().timeoutMillis(1000).build())) {
                    String info = j.info("replication");
                    if (info.contains("role:master") && !info.contains("connected_slaves:0")) {
                        return m;
                    }
                    last = m + ": " + info.lines().filter(l -> l.startsWith("role:") || l.startsWith("connected_"))
                            .toList();
                } catch (RuntimeException e) {
                    last = m + ": " + e.getMessage();
                }
            }
            Fault.sleep(200);
        }
        throw new IOException("no healthy master within " + timeout + " (" + last + ")");
    }

    @Override
    public void kill(String node) {
        unchecked("docker kill " + node, () -> cli.docker("kill", containerId(node)));
    }

    @Override
    public void freeze(String node) {
        unchecked("docker pause " + node, () -> cli.docker("pause", containerId(node)));
    }

    @Override
    public void resume(String node) {
        unchecked("docker unpause " + node, () -> cli.docker("unpause", containerId(node)));
    }

    @Override
    public void shutdownNoSave(String node) {
        if (REDIS.contains(node)) {
            try (Jedis j = new Jedis(HostAndPort.from(address(node)))) {
                j.shutdown(redis.clients.jedis.params.ShutdownParams.shutdownParams().nosave());
            } catch (RuntimeException expected) {
                // the connection drops as the server goes away
            }
        } else {
            shutdown(node);
        }
    }

    @Override
    public void shutdown(String node) {
        unchecked("docker stop " + node, () -> cli.docker("stop", "-t", "30", containerId(node)));
    }

    @Override
    public void restart(String node) throws IOException {
        if (!isAlive(node)) {
            compose("start", node);
        }
    }

    @Override
    public boolean isAlive(String node) {
        try {
            return cli.docker("inspect", "-f", "{{.State.Running}}", containerId(node)).strip().equals("true");
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public Map<String, Map<String, Object>> relayHealth() {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (String r : RELAYS) {
            RelayHealth.read(address(r)).ifPresent(h -> out.put(r, h));
        }
        return out;
    }

    @Override
    public List<byte[]> readList(String key) throws IOException {
        String master = awaitHealthy(Duration.ofSeconds(30));
        try (Jedis j = new Jedis(HostAndPort.from(address(master)),
                DefaultJedisClientConfig.builder().timeoutMillis(10_000).build())) {
            return RelayHealth.readList(j, key);
        }
    }

    /** {@code docker-compose down -v}: every container and volume of the project goes. */
    @Override
    public void close() {
        try {
            long start = System.nanoTime();
            compose("down", "-v", "-t", "20");
            log.accept("docker-compose down -v: " + (System.nanoTime() - start) / 1_000_000 + " ms");
        } catch (IOException e) {
            log.accept("docker-compose down -v failed: " + e.getMessage());
        }
    }
}
