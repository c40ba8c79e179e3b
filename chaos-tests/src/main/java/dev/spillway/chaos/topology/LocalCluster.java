package dev.spillway.chaos.topology;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.Closeable;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole local topology: a {@link SentinelGroup} (3 Redis, 3 Sentinels), N relay processes
 * ({@code java -jar relay/target/relay.jar serve}) and HAProxy in front of them, each with its
 * own directory under {@code base}. Used by {@code ./spillway up}, the HAProxy tests and the
 * chaos suite; {@link #attach} finds a running one from its state file.
 *
 * <p>Thread-safe.
 */
public final class LocalCluster implements Closeable {

    /**
     * The relay's JVM settings (also the README's advice): a small heap, since messages wait
     * on disk rather than in memory, and the serial collector, which spends the least CPU on a
     * machine whose cores Redis and the kernel's TCP work need too.
     */
    public static final List<String> RELAY_JVM_OPTIONS = List.of("-Xms64m", "-Xmx192m", "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError");


    private static final Logger LOG = LoggerFactory.getLogger(LocalCluster.class);

    /**
     * Ports (0 = pick a free one) and relay settings.
     *
     * @param relayPortBase relay i (1-based) listens on resp base+i, line base+100+i, http base+200+i,
     *     admin base+300+i; 0 = free ports
     * @param relaySettings merged into every relay's YAML (e.g. {@code spill: {maxBytes: 1MiB}})
     * @param spillDiskBytes when positive, each relay's spill directory lives on its own tmpfs of this
     *     size ({@link SpillDisk}; needs root), mounted before the relay starts and unmounted by
     *     {@link #close}; 0 = in the relay's directory on the machine's disk
     */
    public record Layout(SentinelGroup.Options group, int relays, int relayPortBase, int respPort, int linePort,
            int httpPort, int statsPort, int passthroughPort, Map<String, Object> relaySettings, long spillDiskBytes) {

        /** The ports of DESIGN.md: HAProxy 6380/9501/8080/8404, Sentinels 26379-26381. */
        public static Layout local() {
            return new Layout(SentinelGroup.Options.localCluster(), 3, 7000, 6380, 9501, 8080, 8404, 6479, Map.of(),
                    0);
        }

        public static Layout forTests(int relays, Map<String, Object> relaySettings) {
            return new Layout(SentinelGroup.Options.forTests(), relays, 0, 0, 0, 0, 0, 0, relaySettings, 0);
        }

        /** The same topology with Sentinel's internal timers changed: {@link SentinelGroup.Options#withSentinelDebug}. */
        public Layout withSentinelDebug(Map<String, Integer> timers) {
            return new Layout(group.withSentinelDebug(timers), relays, relayPortBase, respPort, linePort, httpPort,
                    statsPort, passthroughPort, relaySettings, spillDiskBytes);
        }

        /** The same topology with every node in a container (Testcontainers, host networking). */
        public Layout inContainers() {
            return new Layout(group.inContainers(), relays, relayPortBase, respPort, linePort, httpPort, statsPort,
                    passthroughPort, relaySettings, spillDiskBytes);
        }

        /**
         * The same topology with each relay's spill directory on its own tmpfs of {@code bytes}
         * (what the {@code spill-disk-full} fault fills), and {@link #SMALL_DISK_RELAY_SETTINGS}
         * under {@code relaySettings}, so that segments roll and are deleted on so small a disk.
         */
        public Layout withSpillDisk(long bytes) {
            if (bytes <= 0) {
                throw new IllegalArgumentException("spill disk size: " + bytes + " (expected: > 0)");
            }
            Map<String, Object> settings = new LinkedHashMap<>(SMALL_DISK_RELAY_SETTINGS);
            merge(settings, relaySettings);
            return new Layout(group, relays, relayPortBase, respPort, linePort, httpPort, statsPort, passthroughPort,
                    Map.copyOf(settings), bytes);
        }
    }

    /**
     * Relay settings for a spill directory on a disk of a few MiB: 1 MiB segments (the default,
     * 64 MiB, would never roll there), and records and values small enough for them.
     */
    public static final Map<String, Object> SMALL_DISK_RELAY_SETTINGS = Map.of(
            "spill", Map.of("segmentBytes", "1MiB", "maxRecordBytes", "512KiB"),
            "limits", Map.of("maxValueBytes", 256 * 1024));

    private final Path base;
    private final SentinelGroup group;
    private final List<Node> relays;
    private final Node haproxy;
    private volatile ClusterState state;

    private LocalCluster(Path base, SentinelGroup group, List<Node> relays, Node haproxy, ClusterState state) {
        this.base = base;
        this.group = group;
        this.relays = relays;
        this.haproxy = haproxy;
        this.state = state;
    }

    /** Starts everything, waits until all are healthy and writes the state file. */
    public static LocalCluster start(Path base, Layout layout) throws IOException {
        Files.createDirectories(base);
        Path jar = Checkout.relayJar();
        SentinelGroup group = SentinelGroup.start(base, layout.group());
        List<Node> relays = new ArrayList<>();
        Node haproxy = null;
        try {
            List<int[]> relayPorts = new ArrayList<>();
            for (int i = 1; i <= layout.relays(); i++) {
                int b = layout.relayPortBase();
                int[] ports = {port(b, i), port(b, 100 + i), port(b, 200 + i), port(b, 300 + i)};
                relayPorts.add(ports);
            }
            List<String> peers = relayPorts.stream().map(p -> "127.0.0.1:" + p[3]).toList();
            for (int i = 1; i <= layout.relays(); i++) {
                int[] p = relayPorts.get(i - 1);
                Path dir = Files.createDirectories(base.resolve("relay-" + i));
                Path spill = dir.resolve("spill");
                if (layout.spillDiskBytes() > 0) {
                    Path disk = SpillDisk.mountPoint(dir);
                    SpillDisk.mount(disk, layout.spillDiskBytes());
                    spill = disk.resolve(SpillDisk.SPILL_DIR);
                }
                Path yaml = dir.resolve("relay.yaml");
                writeRelayConfig(yaml, "relay-" + i, p, group.sentinelAddresses(), spill, peers,
                        layout.relaySettings());
                List<String> command = new ArrayList<>(List.of("java"));
                command.addAll(RELAY_JVM_OPTIONS);
                command.addAll(List.of("-jar", jar.toString(), "serve", "--config", yaml.toString()));
                Node relay = Node.process("relay-" + i, Node.Kind.RELAY, p[0], p[3], dir, command);
                if (layout.group().containers()) {
                    relay = relay.inContainer(ContainerRunner.image("relay"),
                            List.of(base.toAbsolutePath(), jar.getParent()));
                }
                relays.add(relay);
            }
            for (Node r : relays) {
                r.start();
            }
            int resp = SentinelGroup.portOrFree(layout.respPort());
            int line = SentinelGroup.portOrFree(layout.linePort());
            int http = SentinelGroup.portOrFree(layout.httpPort());
            int stats = SentinelGroup.portOrFree(layout.statsPort());
            int passthrough = SentinelGroup.portOrFree(layout.passthroughPort());
            Path hdir = Files.createDirectories(base.resolve("haproxy"));
            String socket = hdir.resolve("admin.sock").toString();
            Path cfg = hdir.resolve("haproxy.cfg");
            Files.writeString(cfg, haproxyConfig(relayPorts, group.redisNodes(), resp, line, http, stats, passthrough,
                    socket));
            haproxy = Node.process("haproxy", Node.Kind.HAPROXY, resp, stats, hdir,
                    List.of(Checkout.haproxyBinary(), "-f", cfg.toString()));
            if (layout.group().containers()) {
                haproxy = haproxy.inContainer(ContainerRunner.image("haproxy"), List.of(base.toAbsolutePath()));
            }
            haproxy.start();
            List<ClusterState.NodeRecord> records = new ArrayList<>();
            group.redisNodes().forEach(n -> records.add(ClusterState.NodeRecord.of(n)));
            group.sentinelNodes().forEach(n -> records.add(ClusterState.NodeRecord.of(n)));
            relays.forEach(n -> records.add(ClusterState.NodeRecord.of(n)));
            records.add(ClusterState.NodeRecord.of(haproxy));
            ClusterState state = new ClusterState(records, resp, line, http, stats, passthrough, socket);
            state.write(base);
            LocalCluster cluster = new LocalCluster(base, group, relays, haproxy, state);
            cluster.awaitRelaysUp(Duration.ofSeconds(30));
            return cluster;
        } catch (IOException | RuntimeException e) {
            if (haproxy != null) {
                haproxy.kill();
            }
            relays.forEach(Node::kill);
            group.close();
            for (int i = 1; i <= layout.relays(); i++) {
                SpillDisk.unmount(SpillDisk.mountPoint(base.resolve("relay-" + i)));
            }
            throw e;
        }
    }

    /** The cluster a previous {@code start} left running in {@code base}, if any of it still runs. */
    public static Optional<LocalCluster> attach(Path base) throws IOException {
        Optional<ClusterState> s = ClusterState.read(base);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        List<Node> redis = new ArrayList<>();
        List<Node> sentinels = new ArrayList<>();
        List<Node> relays = new ArrayList<>();
        Node haproxy = null;
        for (ClusterState.NodeRecord r : s.get().nodes()) {
            Node n = r.toNode();
            switch (r.kind()) {
                case REDIS -> redis.add(n);
                case SENTINEL -> sentinels.add(n);
                case RELAY -> relays.add(n);
                case HAPROXY -> haproxy = n;
            }
        }
        return Optional.of(new LocalCluster(base, new SentinelGroup(redis, sentinels), relays, haproxy, s.get()));
    }

    public SentinelGroup group() {
        return group;
    }

    public List<Node> relays() {
        return List.copyOf(relays);
    }

    public Node haproxy() {
        return haproxy;
    }

    public ClusterState state() {
        return state;
    }

    public Path base() {
        return base;
    }

    /**
     * The mount point of relay {@code name}'s own spill disk ({@link Layout#withSpillDisk}), or
     * empty when its spill directory is on the machine's disk.
     */
    public Optional<Path> spillDisk(String name) {
        for (Node r : relays) {
            if (r.name().equals(name)) {
                Path disk = SpillDisk.mountPoint(r.dir());
                try {
                    return SpillDisk.isMountPoint(disk) ? Optional.of(disk) : Optional.empty();
                } catch (IOException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    public List<Node> allNodes() {
        List<Node> all = new ArrayList<>(group.redisNodes());
        all.addAll(group.sentinelNodes());
        all.addAll(relays);
        if (haproxy != null) {
            all.add(haproxy);
        }
        return all;
    }

    /** True when at least one process of the cluster still runs. */
    public boolean anyAlive() {
        return allNodes().stream().anyMatch(Node::isAlive);
    }

    /**
     * Rewrites the state file with every node's current pid; called after a node was restarted,
     * so that {@code down} and later commands find the new process.
     */
    public synchronized void saveState() throws IOException {
        List<ClusterState.NodeRecord> records = allNodes().stream().map(ClusterState.NodeRecord::of).toList();
        ClusterState s = state;
        state = new ClusterState(records, s.respPort(), s.linePort(), s.httpPort(), s.statsPort(), s.passthroughPort(),
                s.runtimeSocket());
        state.write(base);
    }

    /** Sends a command to HAProxy's runtime API and returns its answer. */
    public String haproxyCommand(String command) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(state.runtimeSocket()));
            ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            StringBuilder out = new StringBuilder();
            while (ch.read(buf) > 0) {
                buf.flip();
                out.append(StandardCharsets.UTF_8.decode(buf));
                buf.clear();
            }
            return out.toString().trim();
        }
    }

    /** HAProxy's state of each server of {@code backend}, e.g. {@code redis-1 -> DOWN}. */
    public Map<String, String> haproxyServers(String backend) throws IOException {
        Map<String, String> view = new LinkedHashMap<>();
        for (String line : haproxyCommand("show stat").split("\n")) {
            String[] f = line.split(",", -1);
            if (f.length > 17 && f[0].equals(backend) && !f[1].equals("BACKEND") && !f[1].equals("FRONTEND")) {
                view.put(f[1], f[17]);
            }
        }
        return view;
    }

    /** HAProxy's state for each relay in each backend, e.g. {@code relays_resp/relay-1 -> UP}. */
    public Map<String, String> haproxyView() throws IOException {
        Map<String, String> view = new LinkedHashMap<>();
        for (String line : haproxyCommand("show stat").split("\n")) {
            String[] f = line.split(",", -1);
            if (f.length > 17 && f[0].startsWith("relays_") && !f[1].equals("BACKEND") && !f[1].equals("FRONTEND")) {
                view.put(f[0] + "/" + f[1], f[17]);
            }
        }
        return view;
    }

    /**
     * The drain runbook: HAProxy stops sending relay {@code i} new connections, then the relay
     * gets SIGTERM (it stops reading, answers what it holds, closes, exits 0).
     */
    public void drainRelay(int i, Duration grace) throws IOException {
        Node relay = relays.get(i - 1);
        for (String backend : List.of("relays_resp", "relays_line", "relays_http")) {
            haproxyCommand("set server " + backend + "/" + relay.name() + " state drain");
        }
        relay.terminate(grace);
    }

    /** Waits until HAProxy sees every live relay UP (its runtime socket may not exist yet at first). */
    public void awaitRelaysUp(Duration timeout) throws IOException {
        long start = System.nanoTime();
        while (true) {
            Map<String, String> view;
            try {
                view = haproxyView();
            } catch (IOException notYet) {
                if (Timing.elapsedSince(start).compareTo(timeout) > 0) {
                    throw new IOException("HAProxy's runtime socket " + state.runtimeSocket() + " does not answer after "
                            + timeout + ": " + notYet.getMessage(), notYet);
                }
                Timing.sleepMillis(100);
                continue;
            }
            boolean allUp = !view.isEmpty() && relays.stream().filter(Node::isAlive)
                    .allMatch(r -> view.entrySet().stream().filter(e -> e.getKey().endsWith("/" + r.name()))
                            .allMatch(e -> e.getValue().startsWith("UP")));
            if (allUp) {
                return;
            }
            if (Timing.elapsedSince(start).compareTo(timeout) > 0) {
                throw new IOException("HAProxy does not see all relays UP after " + timeout + ": " + view);
            }
            Timing.sleepMillis(100);
        }
    }

    /**
     * Stops every process: relays drain (SIGTERM), then HAProxy, Sentinels and Redis; then
     * unmounts the relays' spill disks, if any (their spill logs go with them).
     */
    @Override
    public void close() {
        relays.forEach(r -> stop(r, Duration.ofSeconds(15)));
        relays.forEach(r -> {
            if (!r.isAlive()) {
                SpillDisk.unmount(SpillDisk.mountPoint(r.dir()));
            } else {
                LOG.warn("{} still runs (pid {}); leaving its spill disk mounted", r.name(), r.pid());
            }
        });
        if (haproxy != null) {
            stop(haproxy, Duration.ofSeconds(5));
        }
        group.sentinelNodes().forEach(n -> stop(n, Duration.ofSeconds(5)));
        group.redisNodes().forEach(n -> stop(n, Duration.ofSeconds(10)));
        allNodes().forEach(Node::removeContainer);
        try {
            ClusterState.delete(base);
        } catch (IOException e) {
            LOG.warn("Cannot delete {}", base.resolve(ClusterState.FILE), e);
        }
    }

    private static void stop(Node n, Duration grace) {
        if (!n.isAlive()) {
            return;
        }
        long start = System.nanoTime();
        n.terminate(grace);
        LOG.info("Stopped {} (pid {}) in {} ms", n.name(), n.pid(), Timing.elapsedSince(start).toMillis());
    }

    private static int port(int base, int offset) throws IOException {
        return base == 0 ? SentinelGroup.portOrFree(0) : base + offset;
    }

    private static void writeRelayConfig(Path yaml, String name, int[] p, List<String> sentinels, Path spill,
            List<String> peers, Map<String, Object> overrides) throws IOException {
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("name", name);
        cfg.put("listeners", Map.of(
                "resp", Map.of("host", "127.0.0.1", "port", p[0]),
                "line", Map.of("host", "127.0.0.1", "port", p[1]),
                "http", Map.of("host", "127.0.0.1", "port", p[2]),
                "admin", Map.of("host", "127.0.0.1", "port", p[3], "peers", peers)));
        cfg.put("sink", new LinkedHashMap<>(Map.of("sentinels", sentinels)));
        cfg.put("spill", new LinkedHashMap<>(Map.of("dir", spill.toString())));
        merge(cfg, overrides);
        new ObjectMapper(new YAMLFactory()).writeValue(yaml.toFile(), cfg);
    }

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

    private static String haproxyConfig(List<int[]> relayPorts, List<Node> redis, int resp, int line, int http,
            int stats, int passthrough, String socket) throws IOException {
        String template = Files.readString(Checkout.root().resolve("haproxy/haproxy.cfg.template"));
        StringBuilder respServers = new StringBuilder();
        StringBuilder lineServers = new StringBuilder();
        StringBuilder httpServers = new StringBuilder();
        for (int i = 0; i < relayPorts.size(); i++) {
            int[] p = relayPorts.get(i);
            String name = "relay-" + (i + 1);
            respServers.append("    server ").append(name).append(" 127.0.0.1:").append(p[0]).append(" check port ")
                    .append(p[3]).append('\n');
            lineServers.append("    server ").append(name).append(" 127.0.0.1:").append(p[1]).append(" check port ")
                    .append(p[3]).append('\n');
            httpServers.append("    server ").append(name).append(" 127.0.0.1:").append(p[2]).append(" check port ")
                    .append(p[3]).append('\n');
        }
        StringBuilder redisServers = new StringBuilder();
        for (Node r : redis) {
            redisServers.append("    server ").append(r.name()).append(" 127.0.0.1:").append(r.port())
                    .append(" check inter 1s\n");
        }
        return SentinelGroup.fill(template, Map.ofEntries(Map.entry("BIND", "127.0.0.1"),
                Map.entry("PASSTHROUGH_PORT", String.valueOf(passthrough)),
                Map.entry("REDIS_SERVERS", redisServers.toString().stripTrailing()),
                Map.entry("RESP_PORT", String.valueOf(resp)),
                Map.entry("LINE_PORT", String.valueOf(line)), Map.entry("HTTP_PORT", String.valueOf(http)),
                Map.entry("STATS_PORT", String.valueOf(stats)), Map.entry("RUNTIME_SOCKET", socket),
                Map.entry("RESP_SERVERS", respServers.toString().stripTrailing()),
                Map.entry("LINE_SERVERS", lineServers.toString().stripTrailing()),
                Map.entry("HTTP_SERVERS", httpServers.toString().stripTrailing())));
    }
}
