package dev.spillway.chaos.topology;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Redis Sentinel group on 127.0.0.1, started from {@code sentinel-config/}'s templates:
 * one master, {@code replicas} replicas and three Sentinels (quorum 2) for {@code mymaster},
 * each with its own data directory under {@code baseDir}. Finds the current master through the
 * Sentinels and hands out {@link Node}s for fault injection.
 *
 * <p>Thread-safe.
 */
public final class SentinelGroup implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(SentinelGroup.class);
    public static final String MASTER_NAME = "mymaster";

    /**
     * Ports and timings; {@code 0} ports mean "pick free ones".
     *
     * @param containers run the nodes in containers (Testcontainers backend) instead of as processes
     * @param sentinelDebug {@code SENTINEL DEBUG} timers set on every Sentinel at its every start
     *     (e.g. {@code info-period 1000}); empty = Sentinel's own
     * @param security TLS and ACL users on every node, or null for plain TCP and no passwords
     */
    public record Options(List<Integer> redisPorts, List<Integer> sentinelPorts, int downAfterMillis,
            int failoverTimeoutMillis, int minReplicasMaxLagSeconds, boolean containers,
            Map<String, Integer> sentinelDebug, GroupSecurity security) {

        public Options(List<Integer> redisPorts, List<Integer> sentinelPorts, int downAfterMillis,
                int failoverTimeoutMillis, int minReplicasMaxLagSeconds, boolean containers) {
            this(redisPorts, sentinelPorts, downAfterMillis, failoverTimeoutMillis, minReplicasMaxLagSeconds,
                    containers, Map.of(), null);
        }

        public static Options forTests() {
            return new Options(List.of(0, 0, 0), List.of(0, 0, 0), 1000, 3000, 2, false);
        }

        public static Options localCluster() {
            return new Options(List.of(6379, 6381, 6382), List.of(26379, 26380, 26381), 1000, 3000, 2, false);
        }

        public Options inContainers() {
            return new Options(redisPorts, sentinelPorts, downAfterMillis, failoverTimeoutMillis,
                    minReplicasMaxLagSeconds, true, sentinelDebug, security);
        }

        /** The same group with TLS and ACL users on every node ({@link GroupSecurity}). */
        public Options withSecurity(GroupSecurity security) {
            return new Options(redisPorts, sentinelPorts, downAfterMillis, failoverTimeoutMillis,
                    minReplicasMaxLagSeconds, containers, sentinelDebug, security);
        }

        /**
         * The same with Sentinel's internal timers changed ({@code SENTINEL DEBUG}, Redis 7.0+),
         * e.g. {@code info-period} (how often a Sentinel reads INFO from replicas; 10 s) and
         * {@code publish-period} (hello messages; 2 s — a resumed old master is converted to a
         * replica only after four of them). For suites that must settle many failovers quickly.
         */
        public Options withSentinelDebug(Map<String, Integer> timers) {
            return new Options(redisPorts, sentinelPorts, downAfterMillis, failoverTimeoutMillis,
                    minReplicasMaxLagSeconds, containers, Map.copyOf(timers), security);
        }
    }

    private final List<Node> redis;
    private final List<Node> sentinels;
    private final Map<String, Integer> sentinelDebug;

    SentinelGroup(List<Node> redis, List<Node> sentinels) {
        this(redis, sentinels, Map.of());
    }

    SentinelGroup(List<Node> redis, List<Node> sentinels, Map<String, Integer> sentinelDebug) {
        this.redis = redis;
        this.sentinels = sentinels;
        this.sentinelDebug = Map.copyOf(sentinelDebug);
    }

    /**
     * Sets this group's {@code SENTINEL DEBUG} timers on {@code sentinel} (they live in its memory
     * only: call after every start). Nothing for other nodes or when the group has none.
     */
    public void configure(Node sentinel) throws IOException {
        if (sentinelDebug.isEmpty() || sentinel.kind() != Node.Kind.SENTINEL) {
            return;
        }
        List<String> args = new ArrayList<>(List.of("SENTINEL", "DEBUG"));
        new java.util.TreeMap<>(sentinelDebug).forEach((k, v) -> {
            args.add(k);
            args.add(String.valueOf(v));
        });
        String out = sentinel.cli(args.toArray(String[]::new));
        if (!"OK".equals(out)) {
            throw new IOException(sentinel + ": " + String.join(" ", args) + " answered " + out);
        }
    }

    /** Writes configurations, starts every node and waits until the Sentinels agree on the master. */
    public static SentinelGroup start(Path baseDir, Options options) throws IOException {
        List<Node> redis = new ArrayList<>();
        List<Node> sentinels = new ArrayList<>();
        SentinelGroup group = new SentinelGroup(redis, sentinels, options.sentinelDebug());
        try {
            int masterPort = 0;
            for (int i = 0; i < options.redisPorts().size(); i++) {
                int port = Ports.portOrFree(options.redisPorts().get(i));
                if (i == 0) {
                    masterPort = port;
                }
                Path dir = Files.createDirectories(baseDir.resolve("redis-" + (i + 1)));
                Path confPath = dir.resolve("redis.conf");
                Files.writeString(confPath, ConfigRenderer.redis(port, dir, options.minReplicasMaxLagSeconds(),
                        i == 0 ? 0 : masterPort, options.security()));
                Node n = node(options, baseDir, Node.process("redis-" + (i + 1), Node.Kind.REDIS, port, port, dir,
                        List.of("redis-server", confPath.toString())));
                redis.add(n);
                n.start();
            }
            for (int i = 0; i < options.sentinelPorts().size(); i++) {
                int port = Ports.portOrFree(options.sentinelPorts().get(i));
                Path dir = Files.createDirectories(baseDir.resolve("sentinel-" + (i + 1)));
                Path confPath = dir.resolve("sentinel.conf");
                Files.writeString(confPath, ConfigRenderer.sentinel(port, dir, masterPort, options.downAfterMillis(),
                        options.failoverTimeoutMillis(), options.security()));
                Node n = node(options, baseDir, Node.process("sentinel-" + (i + 1), Node.Kind.SENTINEL, port, port,
                        dir, List.of("redis-sentinel", confPath.toString())));
                sentinels.add(n);
                n.start();
                group.configure(n);
            }
            group.awaitHealthy(Duration.ofSeconds(30));
            LOG.info("Sentinel group up: master {}, replicas {}, sentinels {}", group.currentMaster().orElseThrow(),
                    redis.subList(1, redis.size()), sentinels);
            return group;
        } catch (IOException | RuntimeException e) {
            group.close();
            throw e;
        }
    }

    /**
     * {@code process}, or the same node in a container of the redis image when the options say
     * so; reached over TLS as the relay's user when the group has {@link GroupSecurity}.
     */
    private static Node node(Options options, Path baseDir, Node process) {
        if (options.security() != null) {
            process.access(options.security().access(process.kind()));
        }
        return options.containers()
                ? process.inContainer(ContainerRunner.image("redis"), List.of(baseDir.toAbsolutePath())) : process;
    }

    public List<Node> redisNodes() {
        return List.copyOf(redis);
    }

    public List<Node> sentinelNodes() {
        return List.copyOf(sentinels);
    }

    /** host:port of every Sentinel, as the relay's {@code sink.redis.sentinels} wants them. */
    public List<String> sentinelAddresses() {
        return sentinels.stream().map(Node::address).toList();
    }

    /** The master as the first answering Sentinel names it. */
    public Optional<Node> currentMaster() {
        for (Node s : sentinels) {
            String out = s.isAlive() && !s.isFrozen()
                    ? s.cliQuiet("SENTINEL", "get-master-addr-by-name", MASTER_NAME) : null;
            if (out == null) {
                continue;
            }
            String[] lines = out.split("\r?\n");
            if (lines.length == 2) {
                int port = Integer.parseInt(lines[1].trim());
                return redis.stream().filter(n -> n.port() == port).findFirst();
            }
        }
        return Optional.empty();
    }

    /**
     * Waits until every live Sentinel names the same master, that master says it is a master,
     * it has at least one replica online (the group can take acknowledged writes), and every
     * Sentinel knows a replica and another Sentinel (the group can fail over: Sentinels learn
     * replicas from the master's INFO only every ten seconds).
     */
    public Node awaitHealthy(Duration timeout) throws IOException {
        long start = System.nanoTime();
        while (true) {
            Optional<Node> agreed = agreedMaster();
            if (agreed.isPresent()) {
                Node m = agreed.get();
                String role = m.info("replication", "role");
                String replicas = m.info("replication", "connected_slaves");
                if ("master".equals(role) && replicas != null && Integer.parseInt(replicas) >= 1
                        && sentinelsCanFailOver()) {
                    return m;
                }
            }
            if (Timing.elapsedSince(start).compareTo(timeout) > 0) {
                throw new IOException("Sentinel group not healthy after " + timeout + ": master " + agreed);
            }
            Timing.sleepMillis(100);
        }
    }

    /** Waits until the Sentinels agree on a master other than {@code old}. */
    public Node awaitFailoverFrom(Node old, Duration timeout) throws IOException {
        long start = System.nanoTime();
        while (true) {
            Optional<Node> m = agreedMaster();
            if (m.isPresent() && m.get() != old) {
                return m.get();
            }
            if (Timing.elapsedSince(start).compareTo(timeout) > 0) {
                throw new IOException("no failover away from " + old + " within " + timeout);
            }
            Timing.sleepMillis(50);
        }
    }

    private boolean sentinelsCanFailOver() {
        for (Node s : sentinels) {
            if (!s.isAlive() || s.isFrozen()) {
                continue;
            }
            String out = s.cliQuiet("SENTINEL", "MASTER", MASTER_NAME);
            if (out == null) {
                return false;
            }
            String[] lines = out.split("\r?\n");
            Map<String, String> fields = new java.util.HashMap<>();
            for (int i = 0; i + 1 < lines.length; i += 2) {
                fields.put(lines[i].trim(), lines[i + 1].trim());
            }
            if (Integer.parseInt(fields.getOrDefault("num-slaves", "0")) < 1
                    || Integer.parseInt(fields.getOrDefault("num-other-sentinels", "0")) < 1) {
                return false;
            }
        }
        return true;
    }

    private Optional<Node> agreedMaster() {
        Node agreed = null;
        for (Node s : sentinels) {
            if (!s.isAlive() || s.isFrozen()) {
                continue;
            }
            String out = s.cliQuiet("SENTINEL", "get-master-addr-by-name", MASTER_NAME);
            String[] lines = out == null ? new String[0] : out.split("\r?\n");
            if (lines.length != 2) {
                return Optional.empty();
            }
            int port = Integer.parseInt(lines[1].trim());
            Node m = redis.stream().filter(n -> n.port() == port).findFirst().orElse(null);
            if (m == null || (agreed != null && agreed != m)) {
                return Optional.empty();
            }
            agreed = m;
        }
        return Optional.ofNullable(agreed);
    }

    /** SIGKILLs every process (resuming frozen ones first). Data directories stay. */
    @Override
    public void close() {
        for (Node n : concat()) {
            n.kill();
            n.removeContainer();
        }
    }

    private List<Node> concat() {
        List<Node> all = new ArrayList<>(sentinels);
        all.addAll(redis);
        return all;
    }

}
