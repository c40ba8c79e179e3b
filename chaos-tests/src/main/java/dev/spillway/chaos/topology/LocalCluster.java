package dev.spillway.chaos.topology;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * ({@code java -jar relay.jar serve}, a copy of {@code relay/target/relay.jar}) and HAProxy in front of them, each with its
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

        /** The same topology with TLS and ACL users on every node, and relays set up for them. */
        public Layout withSecurity(GroupSecurity security) {
            return new Layout(group.withSecurity(security), relays, relayPortBase, respPort, linePort, httpPort,
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
            ConfigRenderer.merge(settings, relaySettings);
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
        // the relays run their own copy: a rebuild of relay/target/relay.jar while they run would
        // otherwise swap classes they have not loaded yet under them
        Path jar = Files.copy(Checkout.relayJar(), base.resolve("relay.jar"), StandardCopyOption.REPLACE_EXISTING);
        SentinelGroup group = SentinelGroup.start(base, layout.group());
        List<Node> relays = new ArrayList<>();
        Node haproxy = null;
        try {
            List<Ports.Relay> relayPorts = new ArrayList<>();
            for (int i = 1; i <= layout.relays(); i++) {
                relayPorts.add(Ports.relay(layout.relayPortBase(), i));
            }
            List<String> peers = relayPorts.stream().map(p -> "127.0.0.1:" + p.admin()).toList();
            for (int i = 1; i <= layout.relays(); i++) {
                relays.add(relay(base, layout, jar, i, relayPorts.get(i - 1), group.sentinelAddresses(), peers));
            }
            for (Node r : relays) {
                r.start();
            }
            Path hdir = Files.createDirectories(base.resolve("haproxy"));
            ConfigRenderer.HaproxyFrontends f = new ConfigRenderer.HaproxyFrontends(
                    Ports.portOrFree(layout.respPort()), Ports.portOrFree(layout.linePort()),
                    Ports.portOrFree(layout.httpPort()), Ports.portOrFree(layout.statsPort()),
                    Ports.portOrFree(layout.passthroughPort()), hdir.resolve("admin.sock").toString());
            Path cfg = hdir.resolve("haproxy.cfg");
            Files.writeString(cfg, ConfigRenderer.haproxy(relayPorts, group.redisNodes(), f));
            haproxy = Node.process("haproxy", Node.Kind.HAPROXY, f.resp(), f.stats(), hdir,
                    List.of(Checkout.haproxyBinary(), "-f", cfg.toString()));
            if (layout.group().containers()) {
                haproxy = haproxy.inContainer(ContainerRunner.image("haproxy"), List.of(base.toAbsolutePath()));
            }
            haproxy.start();
            LocalCluster cluster = new LocalCluster(base, group, relays, haproxy, new ClusterState(List.of(), f.resp(),
                    f.line(), f.http(), f.stats(), f.passthrough(), f.runtimeSocket()));
            cluster.saveState();
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

    /** Relay {@code i}: its directory, spill disk (if the layout has them) and YAML; not started. */
    private static Node relay(Path base, Layout layout, Path jar, int i, Ports.Relay ports, List<String> sentinels,
            List<String> peers) throws IOException {
        Path dir = Files.createDirectories(base.resolve("relay-" + i));
        Path spill = dir.resolve("spill");
        if (layout.spillDiskBytes() > 0) {
            Path disk = SpillDisk.mountPoint(dir);
            SpillDisk.mount(disk, layout.spillDiskBytes());
            spill = disk.resolve(SpillDisk.SPILL_DIR);
        }
        Path yaml = dir.resolve("relay.yaml");
        Map<String, Object> settings = layout.group().security() == null ? new LinkedHashMap<>()
                : new LinkedHashMap<>(layout.group().security().relaySettings(dir.resolve("secrets")));
        ConfigRenderer.merge(settings, layout.relaySettings());
        ConfigRenderer.writeRelay(yaml, "relay-" + i, ports, sentinels, spill, peers, settings);
        List<String> command = new ArrayList<>(List.of("java"));
        command.addAll(RELAY_JVM_OPTIONS);
        command.addAll(List.of("-jar", jar.toString(), "serve", "--config", yaml.toString()));
        Node relay = Node.process("relay-" + i, Node.Kind.RELAY, ports.resp(), ports.admin(), dir, command);
        if (!layout.group().containers()) {
            return relay;
        }
        // the image runs its own copy of relay.jar (built from this one) as an unprivileged user
        String image = RelayImage.build();
        RelayImage.grantSpillDir(spill, image);
        return relay.inContainer(image, List.of(base.toAbsolutePath()));
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
     * Writes the state file with every node's current pid; called after the start and after a
     * node was restarted, so that {@code down} and later commands find the new process.
     */
    public synchronized void saveState() throws IOException {
        List<ClusterState.NodeRecord> records = allNodes().stream().map(ClusterState.NodeRecord::of).toList();
        ClusterState s = state;
        state = new ClusterState(records, s.respPort(), s.linePort(), s.httpPort(), s.statsPort(), s.passthroughPort(),
                s.runtimeSocket());
        state.write(base);
    }

    /** HAProxy's runtime API. */
    public HaproxyRuntime haproxyRuntime() {
        return new HaproxyRuntime(state.runtimeSocket());
    }

    /**
     * The drain runbook: relay {@code i} gets SIGTERM — its agent tells HAProxy {@code drain}, it
     * stops reading, answers what it holds, closes, exits 0. No runtime-API command.
     */
    public void drainRelay(int i, Duration grace) throws IOException {
        relays.get(i - 1).terminate(grace);
    }

    /** Waits until HAProxy sees every live relay UP (its runtime socket may not exist yet at first). */
    public void awaitRelaysUp(Duration timeout) throws IOException {
        haproxyRuntime().awaitUp(relays.stream().filter(Node::isAlive).map(Node::name).toList(), timeout);
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
}
