package dev.spillway.relay.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import dev.spillway.relay.net.Transport;
import io.netty.channel.EventLoopGroup;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How the sink keeps its connection to the master, against scripted nodes on 127.0.0.1: the
 * first batch on a connection waits for every replica online when it opened, nothing is sent once
 * the gate has moved, and a master that cannot be reached is retried one attempt at a time.
 */
class RedisSinkConnectionTest {

    private static final String RUN_ID = "abc123";
    private static final List<Message> BATCH = List.of(new Message(7, 0, Message.ListOp.RPUSH,
            "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8)));

    private final EventLoopGroup group = Transport.get().newGroup(1);
    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static String bulk(String s) {
        return "$" + s.length() + "\r\n" + s + "\r\n";
    }

    /** A master with two replicas online that applies every batch and whose WAIT counts {@code acks}. */
    private ScriptedNode master(int acks, long infoDelayMillis) throws Exception {
        ScriptedNode n = new ScriptedNode(w -> switch (w.get(0)) {
            case "INFO" -> {
                ScriptedNode.sleep(infoDelayMillis);
                yield bulk("# Server\r\nrun_id:" + RUN_ID + "\r\n");
            }
            case "ROLE" -> "*3\r\n" + bulk("master") + ":5000\r\n*2\r\n*3\r\n" + bulk("127.0.0.1") + bulk("6381")
                    + bulk("5000") + "*3\r\n" + bulk("127.0.0.1") + bulk("6382") + bulk("5000");
            case "EVALSHA" -> "*3\r\n:1\r\n:0\r\n:0\r\n";
            case "WAIT" -> ":" + acks + "\r\n";
            case "PING" -> "+PONG\r\n";
            default -> "-ERR unexpected " + w.get(0) + "\r\n";
        });
        closing.add(n);
        return n;
    }

    private RedisSink sink(SinkConfig config, MetricRegistry metrics) {
        RedisSink sink = new RedisSink(group, config, metrics, "test");
        closing.add(sink);
        return sink;
    }

    @Test
    void theFirstBatchOnAConnectionWaitsForEveryReplicaOnlineWhenItOpened() throws Exception {
        // the Sentinels list one healthy replica; the master has two online (one the Sentinels do
        // not know): WAIT 1 could be satisfied by the unknown one alone
        ScriptedNode n = master(2, 0);
        RedisSink sink = sink(SinkConfig.builder().build(), new MetricRegistry());
        WriteGate.State gate = new WriteGate.State(true, 1, n.address(), RUN_ID, 1, "test");
        assertThat(sink.write(BATCH, gate, false)).isEqualTo(new WriteResult(1, 0));
        assertThat(n.received).filteredOn(w -> w.get(0).equals("WAIT")).first()
                .satisfies(w -> assertThat(w.get(1)).as("replicas WAIT asks for").isEqualTo("2"));
    }

    @Test
    void aWaitThatCountsFewerThanTheMasterHadOnlineWhenTheConnectionOpenedIsAShortfall() throws Exception {
        ScriptedNode n = master(1, 0);
        RedisSink sink = sink(SinkConfig.builder().build(), new MetricRegistry());
        WriteGate.State gate = new WriteGate.State(true, 1, n.address(), RUN_ID, 1, "test");
        assertThatThrownBy(() -> sink.write(BATCH, gate, false)).isInstanceOf(ReplicationShortfallException.class)
                .hasMessageContaining("1 of 2 required replicas");
    }

    @Test
    void aReplicaTheSentinelsCouldPromoteMustBeAmongThoseOnlineWhateverTheCount() throws Exception {
        // the master's ROLE lists 6381 and 6382, both confirm; the Sentinels could promote 6383,
        // which the master does not have online (its link is down): no count can make up for it
        ScriptedNode n = master(2, 0);
        RedisSink sink = sink(SinkConfig.builder().build(), new MetricRegistry());
        WriteGate.State listed = new WriteGate.State(true, 1, n.address(), RUN_ID, 2, "test",
                java.util.Set.of("127.0.0.1:6381", "127.0.0.1:6383"));
        assertThatThrownBy(() -> sink.write(BATCH, listed, false)).isInstanceOf(ReplicationShortfallException.class)
                .hasMessageContaining("the replica 127.0.0.1:6383 the Sentinels could promote is not online");
        WriteGate.State known = new WriteGate.State(true, 2, n.address(), RUN_ID, 2, "test",
                java.util.Set.of("127.0.0.1:6381", "127.0.0.1:6382"));
        assertThat(sink.write(BATCH, known, false)).isEqualTo(new WriteResult(1, 0));
    }

    @Test
    void aStaleStateNeverReplacesTheConnectionTheGateNamesNow() throws Exception {
        ScriptedNode a = master(2, 0);
        ScriptedNode b = master(2, 0);
        RedisSink sink = sink(SinkConfig.builder().build(), new MetricRegistry());
        WriteGate gate = new WriteGate();
        gate.open(a.address(), RUN_ID, 2);
        WriteGate.State onA = gate.state();
        sink.keepConnected(gate);
        gate.open(b.address(), RUN_ID, 2); // the gate moves to B: its listener opens B's connection
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!sink.connected() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(10);
        }
        long infoOnA = a.count("INFO");
        assertThatThrownBy(() -> sink.write(BATCH, onA, false)).isInstanceOf(WriteGateException.class);
        assertThat(sink.write(BATCH, gate.state(), false)).isEqualTo(new WriteResult(1, 0));
        assertThat(a.count("INFO")).as("no new connection to A").isEqualTo(infoOnA);
        assertThat(b.count("EVALSHA")).isEqualTo(1);
        assertThat(b.count("INFO")).as("B's connection kept").isEqualTo(1);
    }

    @Test
    void nothingIsSentOnceTheGateMovedWhileTheConnectionOpened() throws Exception {
        ScriptedNode n = master(2, 300); // INFO answers late: the batch waits for the connection
        RedisSink sink = sink(SinkConfig.builder().build(), new MetricRegistry());
        WriteGate gate = new WriteGate();
        gate.open(n.address(), RUN_ID, 2);
        sink.keepConnected(gate);
        var written = sink.writeAsync(BATCH, gate.state(), false).toCompletableFuture();
        gate.close("+sdown master mymaster " + n.address().replace(':', ' '));
        assertThatThrownBy(() -> written.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(WriteGateException.class)
                .satisfies(e -> assertThat(((WriteGateException) e.getCause()).sent()).isFalse());
        TimeUnit.MILLISECONDS.sleep(500);
        assertThat(n.count("EVALSHA")).as("scripts the node received").isZero();
    }

    @Test
    void aMasterThatCannotBeReachedIsRetriedOneAttemptAtATimeWithBackoff() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            deadPort = s.getLocalPort(); // closed again: nothing listens there
        }
        MetricRegistry metrics = new MetricRegistry();
        RedisSink sink = sink(SinkConfig.builder().build(), metrics);
        WriteGate gate = new WriteGate();
        gate.open("127.0.0.1:" + deadPort, RUN_ID, 2);
        sink.keepConnected(gate);
        for (int i = 0; i < 20; i++) { // each failed write used to start a reconnect chain of its own
            assertThatThrownBy(() -> sink.write(BATCH, gate.state(), false)).isInstanceOf(RedisLinkException.class);
        }
        long before = metrics.meter("spillway.redis.connections-opened").getCount();
        TimeUnit.SECONDS.sleep(3);
        long attempts = metrics.meter("spillway.redis.connections-opened").getCount() - before;
        assertThat(attempts).as("reconnect attempts in 3 s").isBetween(1L, 4L);
        assertThat(sink.connected()).isFalse();
    }
}
