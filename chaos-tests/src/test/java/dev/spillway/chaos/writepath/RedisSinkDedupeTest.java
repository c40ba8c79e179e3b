package dev.spillway.chaos.writepath;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.Message;
import dev.spillway.relay.net.Transport;
import dev.spillway.relay.sink.RedisSink;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.sink.WriteResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The sink's Lua write against a real master: runs, gaps, replays and partial replays. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RedisSinkDedupeTest {

    private SentinelGroup group;
    private io.netty.channel.EventLoopGroup loop;
    private RedisSink sink;

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        group = SentinelGroup.start(tmp, SentinelGroup.Options.forTests());
        // WAIT 1: these tests are about the script; minReplicas: all is the write gate's (it knows the replicas)
        SinkConfig cfg = SinkConfig.builder().sentinels(group.sentinelAddresses()).minReplicas(1).build();
        loop = Transport.get().newGroup(1);
        sink = new RedisSink(loop, cfg, new MetricRegistry(), "relay");
    }

    @AfterAll
    void stop() {
        sink.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        group.close();
    }

    /** What an open write gate says of the group now: its master, by address and run id. */
    private dev.spillway.relay.sink.WriteGate.State gate(int replicas) throws Exception {
        var master = group.awaitHealthy(java.time.Duration.ofSeconds(5));
        String runId = master.cli("INFO", "server").lines().filter(l -> l.startsWith("run_id:")).findFirst()
                .orElseThrow().substring(7).trim();
        return new dev.spillway.relay.sink.WriteGate.State(true, 1, master.address(), runId, replicas, "test");
    }

    private WriteResult write(List<Message> batch, boolean replay) throws Exception {
        return sink.write(batch, gate(1), replay);
    }

    private static Message m(long instance, long seq, Message.ListOp op, String key) {
        return new Message(instance, seq, op, key.getBytes(StandardCharsets.UTF_8),
                (key + ":" + seq).getBytes(StandardCharsets.UTF_8));
    }

    private List<String> list(String key) throws Exception {
        String out = group.awaitHealthy(java.time.Duration.ofSeconds(5)).cli("LRANGE", key, "0", "-1");
        return out.isEmpty() ? List.of() : List.of(out.split("\n"));
    }

    @Test
    void replayOfAWholeBatchPushesNothingAgain() throws Exception {
        List<Message> batch = new ArrayList<>();
        for (long s = 0; s < 2500; s++) { // more than one unpack chunk in a single run
            batch.add(m(101, s, Message.ListOp.RPUSH, "dd:a"));
        }
        assertThat(write(batch, false)).isEqualTo(new WriteResult(2500, 0));
        assertThat(write(batch, false)).isEqualTo(new WriteResult(0, 2500));
        List<String> a = list("dd:a");
        assertThat(a).hasSize(2500).startsWith("dd:a:0").endsWith("dd:a:2499");
    }

    @Test
    void partialOverlapPushesOnlyTheNewTailInOrder() throws Exception {
        List<Message> first = List.of(m(202, 0, Message.ListOp.RPUSH, "dd:b"), m(202, 1, Message.ListOp.RPUSH, "dd:b"),
                m(202, 2, Message.ListOp.LPUSH, "dd:c"));
        assertThat(write(first, false)).isEqualTo(new WriteResult(3, 0));
        // a replay that starts inside what landed, with a gap (seq 5 never made it to the spill)
        List<Message> replay = List.of(m(202, 1, Message.ListOp.RPUSH, "dd:b"), m(202, 2, Message.ListOp.LPUSH, "dd:c"),
                m(202, 3, Message.ListOp.RPUSH, "dd:b"), m(202, 4, Message.ListOp.RPUSH, "dd:b"),
                m(202, 6, Message.ListOp.RPUSH, "dd:b"), m(202, 7, Message.ListOp.LPUSH, "dd:c"));
        assertThat(write(replay, false)).isEqualTo(new WriteResult(4, 2));
        assertThat(list("dd:b")).containsExactly("dd:b:0", "dd:b:1", "dd:b:3", "dd:b:4", "dd:b:6");
        assertThat(list("dd:c")).containsExactly("dd:c:7", "dd:c:2");
    }

    @Test
    void incarnationsKeepTheirOwnHighWaterMarks() throws Exception {
        List<Message> mixed = List.of(m(301, 10, Message.ListOp.RPUSH, "dd:d"), m(302, 0, Message.ListOp.RPUSH, "dd:d"),
                m(302, 1, Message.ListOp.RPUSH, "dd:d"));
        assertThat(write(mixed, false)).isEqualTo(new WriteResult(3, 0));
        assertThat(write(List.of(m(301, 9, Message.ListOp.RPUSH, "dd:d"), m(302, 2, Message.ListOp.RPUSH, "dd:d")), false))
                .as("an incarnation's older sequence is skipped; the other's new one lands")
                .isEqualTo(new WriteResult(1, 1));
        assertThat(list("dd:d")).containsExactly("dd:d:10", "dd:d:0", "dd:d:1", "dd:d:2");
        String ttl = group.awaitHealthy(java.time.Duration.ofSeconds(5)).cli("TTL", sink.highWaterKey(301));
        assertThat(Long.parseLong(ttl)).isPositive();
    }

    private String cli(String... args) throws Exception {
        return group.awaitHealthy(java.time.Duration.ofSeconds(5)).cli(args);
    }

    @Test
    void aDirectWriteStopsAtARunRedisRefusesAndReportsItWithRedissError() throws Exception {
        cli("SET", "dd:poison1", "a string");
        List<Message> batch = List.of(m(401, 0, Message.ListOp.RPUSH, "dd:e"), m(401, 1, Message.ListOp.RPUSH, "dd:poison1"),
                m(401, 2, Message.ListOp.RPUSH, "dd:poison1"), m(401, 3, Message.ListOp.RPUSH, "dd:e"));
        WriteResult r = write(batch, false);
        assertThat(r.applied()).isEqualTo(1);
        assertThat(r.refusal()).isNotNull();
        assertThat(r.refusal().firstSequence()).isEqualTo(1);
        assertThat(r.refusal().count()).isEqualTo(2);
        assertThat(r.refusal().error()).startsWith("WRONGTYPE");
        assertThat(list("dd:e")).containsExactly("dd:e:0");
        // what was behind the refused run goes out in the next batch
        assertThat(write(List.of(m(401, 3, Message.ListOp.RPUSH, "dd:e")), false)).isEqualTo(new WriteResult(1, 0));
        assertThat(list("dd:e")).containsExactly("dd:e:0", "dd:e:3");
        assertThat(cli("GET", "dd:poison1")).isEqualTo("a string");
    }

    @Test
    void aReplayedMessageRedisRefusesGoesToTheDeadLetterListOnceAndTheRestLands() throws Exception {
        cli("SET", "dd:poison2", "a string");
        long before = Long.parseLong(cli("LLEN", "spillway:dead-letter"));
        List<Message> batch = List.of(m(501, 0, Message.ListOp.RPUSH, "dd:f"), m(501, 1, Message.ListOp.LPUSH, "dd:poison2"),
                m(501, 2, Message.ListOp.RPUSH, "dd:f"));
        assertThat(write(batch, true)).isEqualTo(new WriteResult(2, 0, 1, null));
        assertThat(write(batch, true)).as("replayed again: nothing twice").isEqualTo(new WriteResult(0, 3, 0, null));
        assertThat(list("dd:f")).containsExactly("dd:f:0", "dd:f:2");
        assertThat(Long.parseLong(cli("LLEN", "spillway:dead-letter"))).isEqualTo(before + 1);
        java.util.Map<String, Object> entry = new com.fasterxml.jackson.databind.ObjectMapper().readValue(
                cli("LINDEX", "spillway:dead-letter", "-1"), new com.fasterxml.jackson.core.type.TypeReference<java.util.Map<String, Object>>() { });
        assertThat(entry).containsEntry("key", "dd:poison2").containsEntry("op", "LPUSH")
                .containsEntry("value", "dd:poison2:1").containsEntry("relay", "relay").containsEntry("sequence", 1);
        assertThat((String) entry.get("error")).startsWith("WRONGTYPE");
        assertThat(((Number) entry.get("time")).longValue()).isGreaterThan(1_700_000_000_000L);
    }

    /** The calls of one command in the master's INFO commandstats (0 if never called). */
    private long calls(String command) throws Exception {
        return cli("INFO", "commandstats").lines().filter(l -> l.startsWith("cmdstat_" + command + ":"))
                .map(l -> Long.parseLong(l.replaceFirst("^[^:]*:calls=(\\d+),.*", "$1"))).findFirst().orElse(0L);
    }

    @Test
    void theScriptGoesByItsDigestAndAgainAsTextWhenTheMasterLostIt() throws Exception {
        // a master that never saw the script (a promoted replica: scripts replicate as their effects,
        // or a restart, or SCRIPT FLUSH): EVALSHA ran nothing, the batch goes again as EVAL
        cli("SCRIPT", "FLUSH");
        long evals = calls("eval");
        assertThat(write(List.of(m(801, 0, Message.ListOp.RPUSH, "dd:i"), m(801, 1, Message.ListOp.RPUSH, "dd:i")),
                false)).isEqualTo(new WriteResult(2, 0));
        assertThat(calls("eval")).as("one EVAL with the text after the NOSCRIPT").isEqualTo(evals + 1);
        long shas = calls("evalsha");
        for (long s = 2; s < 12; s++) {
            assertThat(write(List.of(m(801, s, Message.ListOp.RPUSH, "dd:i")), false)).isEqualTo(new WriteResult(1, 0));
        }
        assertThat(calls("eval")).as("the text goes once; then the digest alone").isEqualTo(evals + 1);
        assertThat(calls("evalsha")).isEqualTo(shas + 10);
        List<String> expected = new ArrayList<>();
        for (long s = 0; s < 12; s++) {
            expected.add("dd:i:" + s);
        }
        assertThat(list("dd:i")).containsExactlyElementsOf(expected);
    }

    @Test
    void aWriteLandsOnlyOnTheNodeWhoseRunIdTheGateNames() throws Exception {
        var master = group.awaitHealthy(java.time.Duration.ofSeconds(5));
        List<Message> batch = List.of(m(601, 0, Message.ListOp.RPUSH, "dd:g"));
        // the gate names another process at the master's address (a restart, a resumed old master)
        dev.spillway.relay.sink.WriteGate.State elsewhere = new dev.spillway.relay.sink.WriteGate.State(true, 1,
                master.address(), "0123456789012345678901234567890123456789", 1, "test");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> sink.writeAsync(batch, elsewhere, false)
                .toCompletableFuture().join()).hasMessageContaining("SPILLWAY-FENCE");
        assertThat(list("dd:g")).isEmpty();
        assertThat(sink.writeAsync(batch, gate(1), false).toCompletableFuture().join()).isEqualTo(new WriteResult(1, 0));
        assertThat(list("dd:g")).containsExactly("dd:g:0");
        // and a replica, named as the master with its own run id: it refuses the write itself
        var replica = group.redisNodes().stream().filter(n -> !n.address().equals(master.address())).findFirst()
                .orElseThrow();
        String replicaRunId = replica.cli("INFO", "server").lines().filter(l -> l.startsWith("run_id:")).findFirst()
                .orElseThrow().substring(7).trim();
        dev.spillway.relay.sink.WriteGate.State aReplica = new dev.spillway.relay.sink.WriteGate.State(true, 3,
                replica.address(), replicaRunId, 1, "test");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> sink.writeAsync(List.of(m(601, 1,
                Message.ListOp.RPUSH, "dd:g")), aReplica, false).toCompletableFuture().join())
                .hasMessageContaining("READONLY");
        assertThat(list("dd:g")).containsExactly("dd:g:0");
    }

    @Test
    void allCountsAReplicaTheSentinelsDoNotList(@TempDir Path dir) throws Exception {
        // a replica Sentinel does not know (replica-announced no): under WAIT 2 its ack could stand
        // in for the replica Sentinel promotes, so 'all' must wait for it too
        var master = group.currentMaster().orElseThrow();
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process extra = new ProcessBuilder("redis-server", "--port", String.valueOf(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--replicaof", "127.0.0.1",
                String.valueOf(master.port()), "--replica-announced", "no").redirectErrorStream(true)
                .redirectOutput(dir.resolve("extra.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
            while (!cli("INFO", "replication").contains("port=" + port + ",state=online")
                    && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(50);
            }
            assertThat(cli("INFO", "replication")).contains("connected_slaves:3");
            String runId = cli("INFO", "server").lines().filter(l -> l.startsWith("run_id:")).findFirst()
                    .orElseThrow().substring(7).trim();
            RedisSink all = new RedisSink(loop, SinkConfig.builder().sentinels(group.sentinelAddresses())
                    .build(), new MetricRegistry(), "relay");
            var sentinelsSay = new dev.spillway.relay.sink.WriteGate.State(true, 1, master.address(), runId, 2, "test");
            // frozen, the unlisted replica stays online in the master's eyes but confirms nothing:
            // the two listed replicas' WAIT must not be enough
            signal(extra, "STOP");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> all.writeAsync(
                    List.of(m(701, 0, Message.ListOp.RPUSH, "dd:h")), sentinelsSay, false).toCompletableFuture().join())
                    .hasMessageContaining("of 3 required replicas");
            signal(extra, "CONT");
            // the next batches wait for all three (the new replica may still be loading its copy)
            WriteResult r = null;
            for (int attempt = 0; attempt < 20 && r == null; attempt++) {
                try {
                    r = all.writeAsync(List.of(m(701, 1, Message.ListOp.RPUSH, "dd:h")), sentinelsSay, false)
                            .toCompletableFuture().join();
                } catch (java.util.concurrent.CompletionException e) {
                    assertThat(e).hasMessageContaining("of 3 required replicas");
                }
            }
            assertThat(r).isNotNull();
            assertThat(list("dd:h")).containsExactly("dd:h:0", "dd:h:1");
        } finally {
            extra.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void signal(Process p, String signal) throws Exception {
        new ProcessBuilder("kill", "-" + signal, String.valueOf(p.pid())).inheritIO().start().waitFor(5, TimeUnit.SECONDS);
    }
}
