package dev.spillway.relay.spill;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.Message;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a child JVM that appends from several threads, at random moments, twenty times on
 * the same directory; after each kill every message the child printed as acknowledged is in the
 * log, and each appender's messages are there in order without gaps.
 */
class SpillLogCrashTest {

    private static final int ROUNDS = 20;
    private static final int THREADS = 4;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedAppendSurvivesSigkill() throws Exception {
        Random random = new Random();
        long seed = random.nextLong();
        random.setSeed(seed);
        Map<Long, Long> lastAcked = new HashMap<>(); // instance -> highest acked sequence
        for (int round = 1; round <= ROUNDS; round++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), "-Xmx128m",
                    SpillCrashChild.class.getName(), dir.toString(), String.valueOf(round), String.valueOf(THREADS))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            CountDownLatch ready = new CountDownLatch(1);
            CountDownLatch firstAck = new CountDownLatch(1);
            Map<Long, Long> acked = new HashMap<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(
                        new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (line.equals("READY")) {
                            ready.countDown();
                            continue;
                        }
                        String[] parts = line.split(" ");
                        if (parts.length == 2) {
                            synchronized (acked) {
                                acked.merge(Long.parseLong(parts[0]), Long.parseLong(parts[1]), Math::max);
                            }
                            firstAck.countDown();
                        }
                    }
                } catch (Exception e) {
                    // the pipe breaks when the child dies
                }
            });
            reader.start();
            assertThat(ready.await(30, TimeUnit.SECONDS)).as("child started, round " + round).isTrue();
            assertThat(firstAck.await(30, TimeUnit.SECONDS)).as("child acknowledged, round " + round).isTrue();
            Thread.sleep(random.nextInt(300)); // the kill lands at a random moment of steady appending
            child.toHandle().destroyForcibly(); // SIGKILL; unlike Process.destroyForcibly it leaves its output readable
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            reader.join(10_000);
            synchronized (acked) {
                assertThat(acked).as("round %d acknowledged something (seed %d)", round, seed).isNotEmpty();
                lastAcked.putAll(acked);
            }

            try (SpillLog log = SpillLog.open(SpillLogConfig.builder(dir).segmentBytes(32 * 1024)
                    .maxRecordBytes(4096).build())) {
                Map<Long, List<Long>> found = new HashMap<>();
                for (Message m : SpillTestSupport.readAll(log)) {
                    found.computeIfAbsent(m.instance(), k -> new ArrayList<>()).add(m.sequence());
                }
                for (Map.Entry<Long, Long> e : lastAcked.entrySet()) {
                    List<Long> seqs = found.getOrDefault(e.getKey(), List.of());
                    String ctx = "instance " + e.getKey() + " after round " + round + " (seed " + seed + ")";
                    assertThat(seqs.size()).as(ctx + ": acked up to " + e.getValue()).isGreaterThan(
                            e.getValue().intValue());
                    for (int i = 0; i < seqs.size(); i++) {
                        assertThat(seqs.get(i)).as(ctx + ": in order, no gaps").isEqualTo(i);
                    }
                }
            }
        }
    }
}
