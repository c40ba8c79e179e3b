package dev.spillway.chaos.writepath;

import static dev.spillway.chaos.writepath.WritePathFixture.awaitDrained;
import static dev.spillway.chaos.writepath.WritePathFixture.readList;
import static dev.spillway.chaos.writepath.WritePathFixture.startRelay;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.chaos.check.ListCheck;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.Relay;
import dev.spillway.relay.route.Router;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL of the relay process itself while its spill log holds acknowledged messages (Redis
 * frozen): a new relay on the same spill directory replays them all, exactly once, in order.
 */
class RelayCrashTest {

    private static final int PRODUCERS = 4;

    @TempDir
    Path tmp;

    @Test
    void newRelayOnTheSameSpillDirectoryReplaysWhatAKilledOneAcknowledged() throws Exception {
        Path spillDir = tmp.resolve("spill");
        try (SentinelGroup group = SentinelGroup.start(tmp.resolve("cluster"), SentinelGroup.Options.forTests())) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "-Xmx256m", RelayCrashChild.class.getName(),
                    spillDir.toString(), String.join(",", group.sentinelAddresses()), String.valueOf(PRODUCERS))
                    .redirectError(tmp.resolve("child.log").toFile()).start();
            Map<Integer, Set<Long>> acked = new ConcurrentHashMap<>();
            Map<Integer, Long> sent = new ConcurrentHashMap<>();
            AtomicLong acks = new AtomicLong();
            CountDownLatch ready = new CountDownLatch(1);
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(
                        new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.equals("READY")) {
                            ready.countDown();
                        } else if (line.startsWith("ACK ")) {
                            String[] f = line.split(" ");
                            int p = Integer.parseInt(f[1]);
                            long seq = Long.parseLong(f[2]);
                            acked.computeIfAbsent(p, k -> ConcurrentHashMap.newKeySet()).add(seq);
                            sent.merge(p, seq + 1, Math::max);
                            acks.incrementAndGet();
                        }
                    }
                } catch (Exception e) {
                    // the pipe breaks when the child is killed
                }
            });
            reader.start();
            try {
                assertThat(ready.await(60, TimeUnit.SECONDS)).as("child relay connected").isTrue();
                awaitCount(acks, 2_000);
                for (Node n : group.redisNodes()) {
                    n.freeze(); // from now on the child can only spill
                }
                long beforeFreeze = acks.get();
                awaitCount(acks, beforeFreeze + 2_000);
            } finally {
                child.toHandle().destroyForcibly(); // SIGKILL, keeping its output readable to the end
                child.waitFor(30, TimeUnit.SECONDS);
                reader.join(10_000);
                for (Node n : group.redisNodes()) {
                    n.resume();
                }
            }
            group.awaitHealthy(Duration.ofSeconds(30));
            // The child may have sent (never acked) a little past the highest acked sequence.
            sent.replaceAll((p, n) -> n + 64);

            try (Relay relay = startRelay(group, spillDir)) {
                assertThat(relay.spill().recoveryReport().recordsRecovered()).isPositive();
                awaitDrained(relay, Duration.ofSeconds(60));
                ListCheck verdict = ListCheck.of(readList(group, "data_queue"), acked, sent, false);
                System.out.printf("Relay SIGKILL with a non-empty spill: replayed %d, deduped %d; %s%n",
                        WritePathIntegrationTest.meter(relay.metrics(), Router.class, "replayed"),
                        WritePathIntegrationTest.meter(relay.metrics(), Router.class, "replay-deduped"), verdict);
                assertThat(WritePathIntegrationTest.meter(relay.metrics(), Router.class, "replayed"))
                        .as("the new relay replayed the dead one's spill").isPositive();
                assertThat(verdict.ok()).as(verdict.toString()).isTrue();
            }
        }
    }

    private static void awaitCount(AtomicLong counter, long target) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (counter.get() < target && System.currentTimeMillis() < deadline) {
            TimeUnit.MILLISECONDS.sleep(10);
        }
        assertThat(counter.get()).as("acks seen").isGreaterThanOrEqualTo(target);
    }
}
