package dev.spillway.chaos.run;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The {@code spill-disk-full} fault, at the worst moment for a full disk: every relay's spill
 * disk (a small file system of its own, {@link Topology#spillDisk}) is filled with a filler file
 * until only {@code leaveFree} bytes remain; then Redis stops confirming writes, without a
 * failover — both replicas are frozen (SIGSTOP), so the master can neither satisfy {@code WAIT}
 * nor, after {@code min-replicas-max-lag}, take writes — until every relay has reported
 * {@code full} in {@code /health} (it spilled into the little space left and met
 * {@code ENOSPC}), or {@code maxOutage} passed. Then the replicas resume while the filler is
 * still there: each relay must drain its spill completely (pending 0, mode DIRECT) on a disk
 * that is still full — committing its replay position or rolling a segment may need space it
 * does not have, the livelock this fault looks for. Only then is the filler removed, and every
 * relay must be {@code ok} again.
 *
 * <p>What producers must see meanwhile is for the chaos run to check: a refusal naming the full
 * disk for whatever a relay could not spill, and nothing acknowledged lost.
 */
public final class SpillDiskFull {

    /**
     * @param leaveFree bytes left free on each spill disk once filled
     * @param maxOutage longest time the replicas stay frozen
     * @param holdFull how long the outage goes on once every relay has reported {@code full}
     * @param drainTimeout how long each relay may take to drain with the filler in place
     * @param healthyTimeout how long each relay may take to be {@code ok} once the filler is gone
     */
    public record Options(long leaveFree, Duration maxOutage, Duration holdFull, Duration drainTimeout,
            Duration healthyTimeout) {

        /** 1 MiB left free, at most 20 s of outage, 1 s more once all are full, 60 s to drain, 30 s to be ok. */
        public static Options defaults() {
            return new Options(1024 * 1024, Duration.ofSeconds(20), Duration.ofSeconds(1), Duration.ofSeconds(60),
                    Duration.ofSeconds(30));
        }

        public Options leaveFree(long bytes) {
            return new Options(bytes, maxOutage, holdFull, drainTimeout, healthyTimeout);
        }

        public Options maxOutage(Duration d) {
            return new Options(leaveFree, d, holdFull, drainTimeout, healthyTimeout);
        }
    }

    /** The file that fills a spill disk, beside the relay's spill directory. */
    public static final String FILLER = "chaos-filler";
    /** In the fault's description when no relay reported {@code full} during the outage. */
    public static final String NO_RELAY_FULL = "no relay reported full";
    /** A spill disk larger than this is not filled: it is not one made for the fault. */
    static final long MAX_DISK_BYTES = 1L << 30;

    private static final long PAGE = 4096;
    private static final int CHUNK = 1 << 20;
    private static final long POLL_MS = 100;

    private SpillDiskFull() {}

    /** Injects the fault; returns what it filled, which relays went full, and how long the drain took. */
    public static String inject(Topology t, Options o) throws IOException {
        Map<String, Path> disks = new LinkedHashMap<>();
        for (String relay : t.relayNodes()) {
            Path disk = t.spillDisk(relay).orElseThrow(() -> new IOException(relay + " has no spill disk of its own "
                    + "on this machine; spill-disk-full fills it, so the relays need one each: ./spillway up "
                    + "--spill-disk 16m (LocalCluster.Layout.withSpillDisk)"));
            checkFillable(relay, disk);
            disks.put(relay, disk);
        }
        String master = t.awaitHealthy(Fault.FAILOVER_TIMEOUT);
        List<String> replicas = t.redisNodes().stream().filter(n -> !n.equals(master)).filter(t::isAlive).toList();
        if (replicas.isEmpty()) {
            throw new IOException("no live replica of " + master + " to freeze");
        }
        StringBuilder what = new StringBuilder();
        Map<String, Long> fullAfterMs = new TreeMap<>();
        Set<String> statusesWhileDraining = new LinkedHashSet<>();
        List<String> removeErrors = new ArrayList<>();
        try {
            Map<String, Long> filled = new LinkedHashMap<>();
            for (Map.Entry<String, Path> d : disks.entrySet()) {
                filled.put(d.getKey(), fill(d.getValue(), o.leaveFree()));
            }
            what.append("spill disks of ").append(String.join(", ", disks.keySet())).append(" filled to ")
                    .append(o.leaveFree() / 1024).append(" KiB free (filler ")
                    .append(String.join(" / ", filled.values().stream().map(SpillDiskFull::mib).toList()))
                    .append(" MiB)");

            long outageStart = System.nanoTime();
            List<String> frozen = new ArrayList<>();
            try {
                for (String r : replicas) {
                    t.freeze(r);
                    frozen.add(r);
                }
                watchUntilFull(t, disks.keySet(), o, outageStart, fullAfterMs);
            } finally {
                for (String r : frozen) {
                    t.resume(r);
                }
            }
            long resumed = System.nanoTime();
            long outageMs = (resumed - outageStart) / 1_000_000;
            what.append("; replicas ").append(String.join(", ", replicas)).append(" frozen ").append(outageMs)
                    .append(" ms (master ").append(master).append(")");
            what.append(fullAfterMs.isEmpty() ? "; " + NO_RELAY_FULL + " during the outage"
                    : "; full: " + String.join(", ", fullAfterMs.entrySet().stream()
                            .map(e -> e.getKey() + " after " + e.getValue() + " ms").toList()));

            t.awaitHealthy(Fault.FAILOVER_TIMEOUT);
            awaitDrainedWhileFull(t, disks, o, resumed, statusesWhileDraining);
            long drainMs = (System.nanoTime() - resumed) / 1_000_000;
            what.append("; drained with the filler in place ").append(drainMs).append(" ms after the replicas resumed")
                    .append(" (statuses seen meanwhile: ").append(String.join(", ", statusesWhileDraining)).append(")");
        } finally {
            for (Path disk : disks.values()) {
                try {
                    Files.deleteIfExists(disk.resolve(FILLER));
                } catch (IOException e) {
                    removeErrors.add(disk + ": " + e.getMessage());
                }
            }
        }
        if (!removeErrors.isEmpty()) {
            throw new IOException("cannot remove the filler: " + removeErrors);
        }
        long freed = System.nanoTime();
        awaitAllOk(t, disks.keySet(), o.healthyTimeout());
        what.append("; filler removed, every relay ok ").append((System.nanoTime() - freed) / 1_000_000)
                .append(" ms later; master ").append(t.currentMaster());
        return what.toString();
    }

    /**
     * Refuses a disk that is not a file system of its own, or a large one: filling it would fill
     * the machine's disk (or another relay's).
     */
    private static void checkFillable(String relay, Path disk) throws IOException {
        FileStore store = Files.getFileStore(disk);
        FileStore parent = Files.getFileStore(disk.toAbsolutePath().getParent());
        if (store.equals(parent)) {
            throw new IOException(relay + "'s spill disk " + disk + " is not a file system of its own (" + store
                    + "); refusing to fill it");
        }
        if (store.getTotalSpace() > MAX_DISK_BYTES) {
            throw new IOException(relay + "'s spill disk " + disk + " holds " + mib(store.getTotalSpace())
                    + " MiB; refusing to fill more than " + mib(MAX_DISK_BYTES) + " MiB");
        }
    }

    /**
     * Writes the filler until at most {@code leaveFree} bytes (give or take a page) remain free;
     * returns its size. Should the relay take space meanwhile and the disk run out, the filler
     * gives back what it took too much.
     */
    static long fill(Path disk, long leaveFree) throws IOException {
        FileStore store = Files.getFileStore(disk);
        Path filler = disk.resolve(FILLER);
        ByteBuffer zeros = ByteBuffer.allocate(CHUNK);
        try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            long limit = store.getTotalSpace() / PAGE + 16; // chunks of at least a page: bounded
            for (long i = 0; i < limit; i++) {
                long excess = store.getUsableSpace() - leaveFree;
                if (excess < PAGE) {
                    break;
                }
                zeros.clear().limit((int) Math.min(CHUNK, excess / PAGE * PAGE));
                try {
                    while (zeros.hasRemaining()) {
                        ch.write(zeros);
                    }
                } catch (IOException noSpace) {
                    break; // the relay took space at the same time: give it back below
                }
            }
            long missing = leaveFree - store.getUsableSpace();
            if (missing > PAGE) {
                ch.truncate(Math.max(0, ch.size() - (missing + PAGE - 1) / PAGE * PAGE));
            }
            return ch.size();
        }
    }

    /** Polls every relay's {@code /health} until each has reported {@code full} for {@code holdFull}, or the outage's bound. */
    private static void watchUntilFull(Topology t, Set<String> relays, Options o, long start,
            Map<String, Long> fullAfterMs) {
        long end = start + o.maxOutage().toNanos();
        long allFullAt = 0;
        while (System.nanoTime() < end) {
            long now = System.nanoTime();
            t.relayHealth().forEach((relay, h) -> {
                if ("full".equals(h.get("status"))) {
                    fullAfterMs.putIfAbsent(relay, (now - start) / 1_000_000);
                }
            });
            if (allFullAt == 0 && fullAfterMs.keySet().containsAll(relays)) {
                allFullAt = now;
            }
            if (allFullAt != 0 && now - allFullAt >= o.holdFull().toNanos()) {
                return;
            }
            Fault.sleep(POLL_MS);
        }
    }

    /**
     * Waits until every relay has an empty spill and writes directly, the filler still in place;
     * fails naming each relay that did not, with its {@code /health} and its disk's free space.
     */
    private static void awaitDrainedWhileFull(Topology t, Map<String, Path> disks, Options o, long since,
            Set<String> statusesSeen) throws IOException {
        long deadline = since + o.drainTimeout().toNanos();
        while (true) {
            Map<String, Map<String, Object>> health = t.relayHealth();
            health.values().forEach(h -> statusesSeen.add(String.valueOf(h.get("status"))));
            List<String> notDrained = new ArrayList<>();
            for (String relay : disks.keySet()) {
                Map<String, Object> h = health.get(relay);
                if (h == null || !"DIRECT".equals(h.get("mode")) || ((Number) h.get("pendingMessages")).longValue() != 0) {
                    notDrained.add(relay);
                }
            }
            if (notDrained.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                List<String> named = new ArrayList<>();
                for (String relay : notDrained) {
                    Map<String, Object> h = health.get(relay);
                    named.add(relay + " (" + free(disks.get(relay)) + " KiB free on its spill disk): "
                            + (h == null ? "/health does not answer (alive: " + t.isAlive(relay) + ")" : "/health " + h));
                }
                throw new IOException(String.join(", ", notDrained) + (notDrained.size() == 1
                        ? " did not drain its spill" : " did not drain their spills") + " (pending messages back to 0, "
                        + "mode DIRECT) within " + o.drainTimeout().toSeconds() + " s of the replicas' resuming, with "
                        + "the spill disk still full: " + String.join("; ", named));
            }
            Fault.sleep(POLL_MS);
        }
    }

    /** Waits until every relay reports {@code ok}, writing directly with an empty spill. */
    private static void awaitAllOk(Topology t, Set<String> relays, Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Map<String, Map<String, Object>> health = t.relayHealth();
            List<String> notOk = relays.stream().filter(r -> {
                Map<String, Object> h = health.get(r);
                return h == null || !"ok".equals(h.get("status")) || !"DIRECT".equals(h.get("mode"))
                        || ((Number) h.get("pendingMessages")).longValue() != 0;
            }).toList();
            if (notOk.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IOException(String.join(", ", notOk) + " not ok " + timeout.toSeconds()
                        + " s after its spill disk was freed: " + notOk.stream()
                                .map(r -> r + " /health " + health.get(r)).toList());
            }
            Fault.sleep(POLL_MS);
        }
    }

    private static long free(Path disk) {
        try {
            return Files.getFileStore(disk).getUsableSpace() / 1024;
        } catch (IOException e) {
            return -1;
        }
    }

    private static String mib(long bytes) {
        return String.format("%.1f", bytes / (1024.0 * 1024));
    }
}
