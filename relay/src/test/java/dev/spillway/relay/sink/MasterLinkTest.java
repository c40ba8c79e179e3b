package dev.spillway.relay.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.relay.net.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The connection to the master against a scripted node on 127.0.0.1 (a socket that answers what
 * each test says): it opens only on the node with the run id the gate names, matches replies to
 * sends in order, and fails what it cannot answer.
 */
class MasterLinkTest {

    private static final Duration SECOND = Duration.ofSeconds(1);

    private final EventLoopGroup group = Transport.get().newGroup(1);
    private final List<ScriptedNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() throws IOException {
        for (ScriptedNode n : nodes) {
            n.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static String bulk(String s) {
        return "$" + s.getBytes(StandardCharsets.UTF_8).length + "\r\n" + s + "\r\n";
    }

    /** ROLE of a master with two replicas online. */
    static final String ROLE_TWO = "*3\r\n" + bulk("master") + ":5000\r\n*2\r\n*3\r\n" + bulk("127.0.0.1") + bulk("6381")
            + bulk("5000") + "*3\r\n" + bulk("127.0.0.1") + bulk("6382") + bulk("4990");

    private static final String INFO_ABC = bulk("# Server\r\nredis_version:7.0.15\r\nrun_id:abc123\r\ntcp_port:6379\r\n");

    /** Answers INFO with run id abc123, AUTH with +OK, and the rest as {@code more} says. */
    private ScriptedNode node(Function<List<String>, String> more) throws IOException {
        ScriptedNode n = new ScriptedNode(words -> switch (words.get(0)) {
            case "INFO" -> INFO_ABC;
            case "AUTH" -> "+OK\r\n";
            case "PING" -> "+PONG\r\n";
            case "ROLE" -> ROLE_TWO;
            default -> more.apply(words);
        });
        nodes.add(n);
        return n;
    }

    private static ByteBuf commands(String... lines) {
        ByteBuf out = Unpooled.buffer();
        for (String line : lines) {
            RespWriter.command(out, line.split(" "));
        }
        return out;
    }

    @Test
    void opensOnlyOnTheNodeWhoseRunIdTheGateNames() throws Exception {
        ScriptedNode n = node(w -> "+PONG\r\n");
        SinkConfig cfg = SinkConfig.builder().username("spillway").password("s3cret").build();
        MasterLink link = MasterLink.open(group, Runnable::run, cfg, n.address(), "abc123", false, 1).get(5, TimeUnit.SECONDS);
        assertThat(link.isActive()).isTrue();
        assertThat(n.received).startsWith(List.of("AUTH", "spillway", "s3cret"), List.of("INFO", "server"));
        link.close();

        assertThatThrownBy(() -> MasterLink.open(group, Runnable::run, cfg, n.address(), "def456", false, 1).join())
                .hasCauseInstanceOf(RedisErrorReply.class)
                .hasMessageContaining("SPILLWAY-FENCE the node at " + n.address() + " has run id abc123")
                .hasMessageContaining("(run id def456)");
    }

    @Test
    void aRefusedAuthIsALinkFailureThatNamesTheSettings() throws Exception {
        ScriptedNode n = new ScriptedNode(w -> w.get(0).equals("AUTH")
                ? "-WRONGPASS invalid username-password pair or user is disabled.\r\n" : INFO_ABC);
        nodes.add(n);
        SinkConfig cfg = SinkConfig.builder().password("wrong").build();
        assertThatThrownBy(() -> MasterLink.open(group, Runnable::run, cfg, n.address(), "abc123", false, 1).join())
                .hasCauseInstanceOf(RedisLinkException.class)
                .hasMessageContaining("refused the relay's AUTH: WRONGPASS")
                .hasMessageContaining("sink.redis.username and password");
    }

    @Test
    void nothingListeningIsALinkFailure() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        assertThatThrownBy(() -> MasterLink.open(group, Runnable::run, SinkConfig.builder().build(), "127.0.0.1:" + port, "x", false, 1).join())
                .hasCauseInstanceOf(RedisLinkException.class).hasMessageContaining("cannot connect to the master");
    }

    @Test
    @SuppressWarnings("unchecked")
    void pipelinedSendsGetTheirOwnRepliesInOrderEvenInPieces() throws Exception {
        ScriptedNode n = node(w -> switch (w.get(0)) {
            case "ECHO" -> bulk(w.get(1));
            case "NUM" -> ":" + w.get(1) + "\r\n";
            case "ARR" -> "*3\r\n:1\r\n" + bulk("two") + "*1\r\n$-1\r\n";
            default -> "-ERR unknown command '" + w.get(0) + "'\r\n";
        });
        n.piecemeal = true;
        MasterLink link = MasterLink.open(group, Runnable::run, SinkConfig.builder().build(), n.address(), "abc123", false, 1)
                .get(5, TimeUnit.SECONDS);
        long timeout = SECOND.toNanos() * 5;
        CompletableFuture<List<Object>> first = link.send(commands("ECHO hello", "NUM 42"), 2, timeout, 1);
        CompletableFuture<List<Object>> second = link.send(commands("ARR", "NOPE"), 2, timeout, 1);
        CompletableFuture<List<Object>> third = link.send(commands("NUM -7"), 1, timeout, 1);
        List<Object> a = first.get(5, TimeUnit.SECONDS);
        assertThat(new String((byte[]) a.get(0), StandardCharsets.UTF_8)).isEqualTo("hello");
        assertThat(a.get(1)).isEqualTo(42L);
        List<Object> b = second.get(5, TimeUnit.SECONDS);
        List<?> arr = (List<?>) b.get(0);
        assertThat(arr.get(0)).isEqualTo(1L);
        assertThat(new String((byte[]) arr.get(1), StandardCharsets.UTF_8)).isEqualTo("two");
        assertThat((List<Object>) arr.get(2)).containsExactly((Object) null);
        assertThat(b.get(1)).isInstanceOfSatisfying(RedisErrorReply.class,
                e -> assertThat(e.error()).isEqualTo("ERR unknown command 'NOPE'"));
        assertThat(third.get(5, TimeUnit.SECONDS)).containsExactly(-7L);
    }

    @Test
    void aSendNotAnsweredInTimeFailsAndClosesTheConnectionSoNoLateReplyIsMisread() throws Exception {
        ScriptedNode n = node(w -> w.get(0).equals("SLOW") ? ScriptedNode.FREEZE : ":1\r\n");
        MasterLink link = MasterLink.open(group, Runnable::run, SinkConfig.builder().build(), n.address(), "abc123", false, 1)
                .get(5, TimeUnit.SECONDS);
        CompletableFuture<List<Object>> slow = link.send(commands("SLOW"), 1, Duration.ofMillis(200).toNanos(), 1);
        CompletableFuture<List<Object>> behind = link.send(commands("FAST"), 1, SECOND.toNanos() * 5, 1);
        assertThatThrownBy(() -> slow.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RedisReplyTimeoutException.class)
                .hasMessageContaining("did not answer within 200 ms");
        // FAST waited behind SLOW on a node that stopped answering: the connection is gone with it,
        // and FAST's outcome is unknown
        assertThatThrownBy(() -> behind.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RedisLinkException.class);
        assertThat(link.isActive()).isFalse();
        assertThatThrownBy(() -> link.send(commands("FAST"), 1, SECOND.toNanos(), 1).join())
                .isInstanceOf(CompletionException.class).hasCauseInstanceOf(RedisLinkException.class)
                .hasMessageContaining("is closed");
    }

    @Test
    void itWakesOnlyOnceTheFewestBytesAllRepliesMakeHaveCome() throws Exception {
        // the master writes a batch's script reply at once and WAIT's later: a connection told that
        // the replies make at least 20 bytes does not wake for the first ones alone
        org.junit.jupiter.api.Assumptions.assumeTrue(Transport.get() == Transport.EPOLL, "SO_RCVLOWAT: native epoll");
        ScriptedNode n = node(w -> switch (w.get(0)) {
            case "SHORT" -> ":1\r\n"; // 4 bytes
            case "PAD" -> bulk("x".repeat(30));
            default -> null;
        });
        MasterLink link = MasterLink.open(group, Runnable::run, SinkConfig.builder().build(), n.address(), "abc123", false, 20)
                .get(5, TimeUnit.SECONDS);
        CompletableFuture<List<Object>> alone = link.send(commands("SHORT"), 1, Duration.ofMillis(300).toNanos(), 20);
        assertThatThrownBy(() -> alone.get(5, TimeUnit.SECONDS)).as("4 bytes never reach 20: not lost, late")
                .hasCauseInstanceOf(RedisReplyTimeoutException.class);
        MasterLink again = MasterLink.open(group, Runnable::run, SinkConfig.builder().build(), n.address(), "abc123", false, 20)
                .get(5, TimeUnit.SECONDS);
        List<Object> both = again.send(commands("SHORT", "PAD"), 2, SECOND.toNanos() * 5, 20).get(5, TimeUnit.SECONDS);
        assertThat(both.get(0)).isEqualTo(1L);
        assertThat(new String((byte[]) both.get(1), StandardCharsets.UTF_8)).hasSize(30);
    }

    @Test
    void aReplySplitIntoPiecesBelowTheLowWaterMarkStillWakesTheRelay() throws Exception {
        // the node writes ROLE's reply whole, the network delivers 48 bytes and then 13: a
        // connection waiting for 20 bytes must not wait for bytes that will never come
        ScriptedNode n = node(w -> w.get(0).equals("SPLIT")
                ? ROLE_TWO.substring(0, 48) + ScriptedNode.PAUSE + ROLE_TWO.substring(48) : null);
        MasterLink link = MasterLink.open(group, Runnable::run, SinkConfig.builder().build(), n.address(), "abc123",
                false, 20).get(5, TimeUnit.SECONDS);
        for (int i = 0; i < 3; i++) {
            List<Object> role = link.send(commands("SPLIT"), 1, Duration.ofMillis(1500).toNanos(), 20)
                    .get(5, TimeUnit.SECONDS);
            assertThat(MasterLink.onlineReplicas(role.get(0), n.address())).containsExactlyInAnyOrder("127.0.0.1:6381",
                    "127.0.0.1:6382");
        }
    }

    @Test
    void anIdleConnectionIsPingedAndClosedOnceTheNodeNoLongerAnswers() throws Exception {
        // a path that died without a reset (an expired NAT entry, a frozen node) is found while idle
        java.util.concurrent.atomic.AtomicInteger pings = new java.util.concurrent.atomic.AtomicInteger();
        ScriptedNode n = new ScriptedNode(w -> switch (w.get(0)) {
            case "INFO" -> INFO_ABC;
            case "PING" -> pings.incrementAndGet() < 3 ? "+PONG\r\n" : ScriptedNode.FREEZE;
            default -> null;
        });
        nodes.add(n);
        SinkConfig cfg = SinkConfig.builder().timeout(Duration.ofMillis(200)).build();
        MasterLink link = MasterLink.open(group, Runnable::run, cfg, n.address(), "abc123", false, 20)
                .get(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (link.isActive() && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        assertThat(link.isActive()).as("closed after an unanswered PING").isFalse();
        assertThat(pings.get()).as("answered twice while alive, then not").isEqualTo(3);
    }

    @Test
    void aSendBehindAnIdlePingHasItsOwnDeadline() throws Exception {
        // the node stalls 400 ms (a slow command, a fork): longer than the PING's 200 ms, shorter
        // than the batch's own second; the batch behind the PING must get its answer
        ScriptedNode n = new ScriptedNode(w -> switch (w.get(0)) {
            case "INFO" -> INFO_ABC;
            case "PING" -> {
                ScriptedNode.sleep(400);
                yield "+PONG\r\n";
            }
            case "NUM" -> ":7\r\n";
            default -> null;
        });
        nodes.add(n);
        SinkConfig cfg = SinkConfig.builder().timeout(Duration.ofMillis(200)).build();
        MasterLink link = MasterLink.open(group, Runnable::run, cfg, n.address(), "abc123", false, 1)
                .get(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (n.count("PING") == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        List<Object> reply = link.send(commands("NUM"), 1, SECOND.toNanos(), 1).get(5, TimeUnit.SECONDS);
        assertThat(reply).containsExactly(7L);
        assertThat(link.isActive()).isTrue();
    }

    @Test
    void theHandshakeCountsTheReplicasOnlineAndRefusesANodeThatIsAReplica() throws Exception {
        ScriptedNode n = node(w -> null);
        MasterLink link = MasterLink.open(group, Runnable::run, SinkConfig.builder().build(), n.address(), "abc123",
                true, 20).get(5, TimeUnit.SECONDS);
        assertThat(link.onlineAtOpen()).isEqualTo(2);
        ScriptedNode replica = new ScriptedNode(w -> switch (w.get(0)) {
            case "INFO" -> INFO_ABC;
            case "ROLE" -> "*5\r\n" + bulk("slave") + bulk("127.0.0.1") + ":6379\r\n" + bulk("connected") + ":1\r\n";
            default -> null;
        });
        nodes.add(replica);
        assertThatThrownBy(() -> MasterLink.open(group, Runnable::run, SinkConfig.builder().build(), replica.address(),
                "abc123", true, 20).join()).hasCauseInstanceOf(RedisErrorReply.class)
                .hasMessageContaining("READONLY").hasMessageContaining("is a replica now");
    }

    @Test
    void aHostNameIsLookedUpOffTheEventLoop() throws Exception {
        ScriptedNode n = node(w -> null);
        java.util.List<String> lookedUpOn = new CopyOnWriteArrayList<>();
        java.util.concurrent.Executor resolver = r -> {
            Thread t = new Thread(() -> {
                lookedUpOn.add(Thread.currentThread().getName());
                r.run();
            }, "test-resolver");
            t.start();
        };
        String byName = "localhost:" + n.address().substring(n.address().lastIndexOf(':') + 1);
        MasterLink link = MasterLink.open(group, resolver, SinkConfig.builder().build(), byName, "abc123", false, 1)
                .get(5, TimeUnit.SECONDS);
        assertThat(link.isActive()).isTrue();
        assertThat(lookedUpOn).containsExactly("test-resolver");
    }

    @Test
    void aConnectionThatClosesFailsEverySendStillWaiting() throws Exception {
        ScriptedNode n = node(w -> w.get(0).equals("QUIT") ? ScriptedNode.HANG_UP : null);
        MasterLink link = MasterLink.open(group, Runnable::run, SinkConfig.builder().build(), n.address(), "abc123", false, 1)
                .get(5, TimeUnit.SECONDS);
        CompletableFuture<List<Object>> waiting = link.send(commands("BLOCKED"), 1, SECOND.toNanos() * 5, 1);
        CompletableFuture<List<Object>> last = link.send(commands("QUIT"), 1, SECOND.toNanos() * 5, 1);
        assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RedisLinkException.class)
                .hasMessageContaining("closed before its replies came");
        assertThatThrownBy(() -> last.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RedisLinkException.class);
    }
}
