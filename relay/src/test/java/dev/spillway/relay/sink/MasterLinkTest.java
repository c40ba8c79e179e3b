package dev.spillway.relay.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.relay.net.Transport;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoopGroup;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
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

    private static final String INFO_ABC = bulk("# Server\r\nredis_version:7.0.15\r\nrun_id:abc123\r\ntcp_port:6379\r\n");

    /** Answers INFO with run id abc123, AUTH with +OK, and the rest as {@code more} says. */
    private ScriptedNode node(Function<List<String>, String> more) throws IOException {
        ScriptedNode n = new ScriptedNode(words -> switch (words.get(0)) {
            case "INFO" -> INFO_ABC;
            case "AUTH" -> "+OK\r\n";
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
        MasterLink link = MasterLink.open(group, cfg, n.address(), "abc123", 1).get(5, TimeUnit.SECONDS);
        assertThat(link.isActive()).isTrue();
        assertThat(n.received).startsWith(List.of("AUTH", "spillway", "s3cret"), List.of("INFO", "server"));
        link.close();

        assertThatThrownBy(() -> MasterLink.open(group, cfg, n.address(), "def456", 1).join())
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
        assertThatThrownBy(() -> MasterLink.open(group, cfg, n.address(), "abc123", 1).join())
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
        assertThatThrownBy(() -> MasterLink.open(group, SinkConfig.builder().build(), "127.0.0.1:" + port, "x", 1).join())
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
        MasterLink link = MasterLink.open(group, SinkConfig.builder().build(), n.address(), "abc123", 1)
                .get(5, TimeUnit.SECONDS);
        long timeout = SECOND.toNanos() * 5;
        CompletableFuture<List<Object>> first = link.send(commands("ECHO hello", "NUM 42"), 2, timeout);
        CompletableFuture<List<Object>> second = link.send(commands("ARR", "NOPE"), 2, timeout);
        CompletableFuture<List<Object>> third = link.send(commands("NUM -7"), 1, timeout);
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
        MasterLink link = MasterLink.open(group, SinkConfig.builder().build(), n.address(), "abc123", 1)
                .get(5, TimeUnit.SECONDS);
        CompletableFuture<List<Object>> slow = link.send(commands("SLOW"), 1, Duration.ofMillis(200).toNanos());
        CompletableFuture<List<Object>> behind = link.send(commands("FAST"), 1, SECOND.toNanos() * 5);
        assertThatThrownBy(() -> slow.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RedisReplyTimeoutException.class)
                .hasMessageContaining("did not answer within 200 ms");
        // FAST waited behind SLOW on a node that stopped answering: the connection is gone with it,
        // and FAST's outcome is unknown
        assertThatThrownBy(() -> behind.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RedisLinkException.class);
        assertThat(link.isActive()).isFalse();
        assertThatThrownBy(() -> link.send(commands("FAST"), 1, SECOND.toNanos()).join())
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
        MasterLink link = MasterLink.open(group, SinkConfig.builder().build(), n.address(), "abc123", 20)
                .get(5, TimeUnit.SECONDS);
        CompletableFuture<List<Object>> alone = link.send(commands("SHORT"), 1, Duration.ofMillis(300).toNanos());
        assertThatThrownBy(() -> alone.get(5, TimeUnit.SECONDS)).as("4 bytes never reach 20: not lost, late")
                .hasCauseInstanceOf(RedisReplyTimeoutException.class);
        MasterLink again = MasterLink.open(group, SinkConfig.builder().build(), n.address(), "abc123", 20)
                .get(5, TimeUnit.SECONDS);
        List<Object> both = again.send(commands("SHORT", "PAD"), 2, SECOND.toNanos() * 5).get(5, TimeUnit.SECONDS);
        assertThat(both.get(0)).isEqualTo(1L);
        assertThat(new String((byte[]) both.get(1), StandardCharsets.UTF_8)).hasSize(30);
    }

    @Test
    void aConnectionThatClosesFailsEverySendStillWaiting() throws Exception {
        ScriptedNode n = node(w -> w.get(0).equals("QUIT") ? ScriptedNode.HANG_UP : null);
        MasterLink link = MasterLink.open(group, SinkConfig.builder().build(), n.address(), "abc123", 1)
                .get(5, TimeUnit.SECONDS);
        CompletableFuture<List<Object>> waiting = link.send(commands("BLOCKED"), 1, SECOND.toNanos() * 5);
        CompletableFuture<List<Object>> last = link.send(commands("QUIT"), 1, SECOND.toNanos() * 5);
        assertThatThrownBy(() -> waiting.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RedisLinkException.class)
                .hasMessageContaining("closed before its replies came");
        assertThatThrownBy(() -> last.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RedisLinkException.class);
    }

    /**
     * A node on 127.0.0.1 that reads commands (arrays of bulk strings) and writes what its script
     * answers: a RESP reply, null for none, {@link #FREEZE} to answer nothing any more (a frozen
     * node), {@link #HANG_UP} to close the connection.
     */
    private static final class ScriptedNode implements AutoCloseable {
        static final String HANG_UP = "hang up";
        static final String FREEZE = "freeze";

        final List<List<String>> received = new CopyOnWriteArrayList<>();
        volatile boolean piecemeal;
        private final ServerSocket server;
        private final Function<List<String>, String> script;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();

        ScriptedNode(Function<List<String>, String> script) throws IOException {
            this.script = script;
            this.server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
            Thread t = new Thread(this::accept, "scripted-node");
            t.setDaemon(true);
            t.start();
        }

        String address() {
            return "127.0.0.1:" + server.getLocalPort();
        }

        private void accept() {
            try {
                while (true) {
                    Socket s = server.accept();
                    sockets.add(s);
                    Thread t = new Thread(() -> serve(s), "scripted-node-connection");
                    t.setDaemon(true);
                    t.start();
                }
            } catch (IOException closed) {
                // the test is over
            }
        }

        private void serve(Socket s) {
            try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
                boolean frozen = false;
                while (true) {
                    List<String> words = read(in);
                    if (words == null) {
                        return;
                    }
                    received.add(words);
                    String reply = frozen ? null : script.apply(words);
                    if (HANG_UP.equals(reply)) {
                        return;
                    }
                    if (FREEZE.equals(reply)) {
                        frozen = true;
                        continue;
                    }
                    if (reply != null) {
                        byte[] bytes = reply.getBytes(StandardCharsets.UTF_8);
                        if (piecemeal) {
                            for (byte b : bytes) {
                                out.write(b);
                                out.flush();
                            }
                        } else {
                            out.write(bytes);
                            out.flush();
                        }
                    }
                }
            } catch (IOException gone) {
                // the client closed
            }
        }

        private static List<String> read(InputStream in) throws IOException {
            String header = line(in);
            if (header == null) {
                return null;
            }
            int n = Integer.parseInt(header.substring(1));
            List<String> words = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int len = Integer.parseInt(line(in).substring(1));
                byte[] b = in.readNBytes(len + 2);
                words.add(new String(b, 0, len, StandardCharsets.UTF_8));
            }
            return words;
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            int c;
            while ((c = in.read()) != -1) {
                if (c == '\n') {
                    return b.toString(StandardCharsets.US_ASCII).stripTrailing();
                }
                b.write(c);
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
