package dev.spillway.chaos.writepath;

import static dev.spillway.chaos.writepath.WritePathFixture.awaitDrained;
import static dev.spillway.chaos.writepath.WritePathFixture.startRelay;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.chaos.check.ListCheck;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.Message;
import dev.spillway.relay.Relay;
import dev.spillway.relay.route.RelayRejectedException;
import dev.spillway.relay.route.Router;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A key of the wrong type in the middle of the traffic — another application's string where the
 * relay pushes lists — against a real Sentinel group: in direct mode the producer gets Redis's
 * own {@code WRONGTYPE}; in spill mode (already acknowledged) the message goes to the dead-letter
 * list; either way every good message lands exactly once, in order, and the relay keeps writing
 * directly — also after a restart on the same spill directory.
 */
class PoisonMessageTest {

    private static final String KEY = "pm:good";
    private static final String POISON = "pm:poison";

    @TempDir
    Path tmp;

    private SentinelGroup group;
    private Relay relay;

    @BeforeEach
    void start() throws Exception {
        group = SentinelGroup.start(tmp.resolve("group"), SentinelGroup.Options.forTests());
    }

    @AfterEach
    void stop() throws Exception {
        if (relay != null) {
            relay.close();
        }
        group.close();
    }

    private CompletableFuture<Void> push(String key, String... values) {
        List<byte[]> vs = new ArrayList<>();
        for (String v : values) {
            vs.add(v.getBytes(StandardCharsets.UTF_8));
        }
        return relay.router().submit(Message.ListOp.RPUSH, key.getBytes(StandardCharsets.UTF_8), vs);
    }

    private String cli(String... args) throws Exception {
        return group.awaitHealthy(Duration.ofSeconds(30)).cli(args);
    }

    @Test
    void inDirectModeTheProducerGetsWrongtypeAndEverythingElseLandsOnce() throws Exception {
        cli("SET", POISON, "another application's string");
        relay = startRelay(group, tmp.resolve("spill"));
        RouterLoad load = new RouterLoad(relay.router(), KEY, 4, 16, 2_000, 2_000).start();
        List<CompletableFuture<Void>> poisoned = new ArrayList<>();
        for (int i = 0; i < 50; i++) { // interleaved with the load: inside batches of good messages
            poisoned.add(push(POISON, "bad-" + i, "bad-" + i + "b"));
            TimeUnit.MILLISECONDS.sleep(10);
        }
        load.join();
        for (CompletableFuture<Void> f : poisoned) {
            Throwable t = null;
            try {
                f.get(10, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                t = e.getCause();
            }
            assertThat(t).isInstanceOf(RelayRejectedException.class).hasMessageStartingWith("WRONGTYPE");
            assertThat(((RelayRejectedException) t).reason()).isEqualTo(RelayRejectedException.Reason.REDIS_REFUSED);
        }
        awaitDrained(relay, Duration.ofSeconds(10));
        ListCheck verdict = WritePathFixture.check(group, KEY, load);
        assertThat(load.errors).isEmpty();
        assertThat(verdict.ok()).as(verdict.toString()).isTrue();
        assertThat(relay.router().mode()).isEqualTo(Router.Mode.DIRECT);
        assertThat(WritePathIntegrationTest.meter(relay.metrics(), Router.class, "spilled"))
                .as("a refused message is no reason to spill").isZero();
        assertThat(cli("GET", POISON)).isEqualTo("another application's string");
        assertThat(cli("LLEN", "spillway:dead-letter")).as("the producer was told: no dead letters").isEqualTo("0");
    }

    @Test
    void inSpillModeTheAcknowledgedPoisonGoesToTheDeadLetterListAndNothingWedges() throws Exception {
        cli("SET", POISON, "another application's string");
        relay = startRelay(group, tmp.resolve("spill"));
        RouterLoad load = new RouterLoad(relay.router(), KEY, 4, 16, 1_000_000, 1_000).start();
        load.awaitAcks(2_000, 20_000);
        Node master = group.currentMaster().orElseThrow();
        master.kill();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (relay.router().mode() != Router.Mode.SPILL && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(5);
        }
        assertThat(relay.router().mode()).isEqualTo(Router.Mode.SPILL);
        List<CompletableFuture<Void>> poisoned = new ArrayList<>();
        for (int i = 0; i < 20; i++) { // acknowledged from the spill, between good messages
            poisoned.add(push(POISON, "bad-" + i));
            TimeUnit.MILLISECONDS.sleep(5);
        }
        CompletableFuture.allOf(poisoned.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
        group.awaitFailoverFrom(master, Duration.ofSeconds(30));
        master.start();
        load.awaitAcks(2_000, 30_000);
        load.stopAndJoin();
        awaitDrained(relay, Duration.ofSeconds(30));

        ListCheck verdict = WritePathFixture.check(group, KEY, load);
        assertThat(load.errors).isEmpty();
        assertThat(verdict.ok()).as(verdict.toString()).isTrue();
        List<Map<String, Object>> dead = deadLetters();
        assertThat(dead).extracting(e -> e.get("value"))
                .as("each acknowledged poison message dead-lettered exactly once, in order")
                .containsExactlyElementsOf(java.util.stream.IntStream.range(0, 20).mapToObj(i -> "bad-" + i).toList());
        assertThat(dead).allSatisfy(e -> {
            assertThat(e.get("key")).isEqualTo(POISON);
            assertThat((String) e.get("error")).startsWith("WRONGTYPE");
        });
        // counted from confirmed replies: a replay whose reply was lost in the failover is skipped
        // on its second try (already dead-lettered), so the count can be lower, never higher
        assertThat(relay.router().deadLettered()).isBetween(1L, 20L);

        // the same spill directory again: nothing is replayed twice, nothing wedges
        relay.close();
        relay = startRelay(group, tmp.resolve("spill"));
        assertThat(push(KEY, "after-restart")).succeedsWithin(Duration.ofSeconds(10));
        assertThat(relay.router().mode()).isEqualTo(Router.Mode.DIRECT);
        assertThat(deadLetters()).hasSize(20);
    }

    private List<Map<String, Object>> deadLetters() throws Exception {
        String out = cli("LRANGE", "spillway:dead-letter", "0", "-1");
        List<Map<String, Object>> entries = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : out.isEmpty() ? new String[0] : out.split("\n")) {
            entries.add(json.readValue(line, new TypeReference<Map<String, Object>>() { }));
        }
        return entries;
    }
}
