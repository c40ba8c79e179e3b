package dev.spillway.chaos.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A relay whose spill log fills up behind HAProxy tells HAProxy {@code drain} through its agent:
 * the producer connected to it keeps its connection and reads {@code -BUSY spill log full …} on
 * every push (before the agent, HAProxy's health check marked the relay DOWN and cut the
 * connection), a new connection goes to the other relay, and once Redis is back and the spill
 * replayed the same connection is acknowledged again — and every acknowledged value is in Redis once.
 */
class FullRelayKeepsConnectionsTest {

    @TempDir
    Path tmp;

    @Test
    void aFullRelayIsDrainedNotCutAndComesBackByItself() throws Exception {
        Map<String, Object> settings = Map.of(
                "spill", Map.of("maxBytes", "64KiB", "segmentBytes", "64KiB", "maxRecordBytes", "16KiB"),
                "limits", Map.of("maxValueBytes", 8 * 1024));
        try (LocalCluster cluster = LocalCluster.start(tmp.resolve("cluster"), LocalCluster.Layout.forTests(2, settings))) {
            int haproxy = cluster.state().respPort();
            Map<String, Integer> acked = new HashMap<>(); // value -> acks
            try (Resp a = new Resp(haproxy)) {
                String relayA = a.relayName();
                Node master = cluster.group().currentMaster().orElseThrow();
                List<Node> replicas = new ArrayList<>(cluster.group().redisNodes());
                replicas.remove(master);
                replicas.forEach(Node::freeze); // WAIT cannot be satisfied: the relays spill
                int n = 0;
                String reply = "";
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (!reply.startsWith("-BUSY") && System.nanoTime() < deadline) {
                    String value = "a-" + n++ + "-" + "x".repeat(1000);
                    reply = a.rpush("agent_queue", value);
                    if (reply.equals(":1")) {
                        acked.merge(value, 1, Integer::sum);
                    } else {
                        assertThat(reply).as("a push before the spill is full").startsWith("-BUSY spill log full");
                    }
                }
                assertThat(reply).as("the spill log filled up").startsWith("-BUSY spill log full");
                String backendServer = "relays_resp/" + relayA;
                String state = awaitState(cluster, backendServer, s -> s.startsWith("DRAIN"), 5_000);
                assertThat(state).as("HAProxy's view of the full relay").startsWith("DRAIN");

                // the producer keeps its connection and reads the reason, well past HAProxy's fall time
                long until = System.nanoTime() + 5_000_000_000L;
                while (System.nanoTime() < until) {
                    // as large as a value may be: it cannot fit in what the full spill log has left
                    assertThat(a.rpush("agent_queue", "refused-" + n++ + "z".repeat(8000)))
                            .startsWith("-BUSY spill log full");
                    Thread.sleep(250);
                }
                assertThat(cluster.haproxyRuntime().relayView().get(backendServer)).startsWith("DRAIN");

                try (Resp b = new Resp(haproxy)) { // a new connection goes to the relay that has room
                    assertThat(b.relayName()).isNotEqualTo(relayA);
                    String value = "b-" + "y".repeat(100);
                    assertThat(b.rpush("agent_queue", value)).isEqualTo(":1");
                    acked.merge(value, 1, Integer::sum);
                }

                replicas.forEach(Node::resume);
                deadline = System.nanoTime() + 60_000_000_000L;
                String back = "";
                while (!back.equals(":1") && System.nanoTime() < deadline) {
                    String value = "again-" + n++;
                    back = a.rpush("agent_queue", value);
                    if (back.equals(":1")) {
                        acked.merge(value, 1, Integer::sum);
                    }
                    Thread.sleep(200);
                }
                assertThat(back).as("the same connection is acknowledged again once the spill drained").isEqualTo(":1");
                assertThat(awaitState(cluster, backendServer, s -> s.startsWith("UP"), 5_000)).startsWith("UP");
            }
            // every acknowledged value in Redis exactly once, once both relays have replayed
            Node master = cluster.group().awaitHealthy(java.time.Duration.ofSeconds(30));
            Map<String, Integer> present = new HashMap<>();
            long deadline = System.nanoTime() + 30_000_000_000L;
            do {
                present.clear();
                for (String v : master.cli("LRANGE", "agent_queue", "0", "-1").split("\n")) {
                    if (!v.isBlank()) {
                        present.merge(v.trim(), 1, Integer::sum);
                    }
                }
                Thread.sleep(200);
            } while (!present.keySet().containsAll(acked.keySet()) && System.nanoTime() < deadline);
            assertThat(acked).hasSizeGreaterThan(10);
            for (String v : acked.keySet()) {
                assertThat(present.getOrDefault(v, 0)).as("acknowledged value %s", v.substring(0, Math.min(12, v.length()))).isEqualTo(1);
            }
        }
    }

    private static String awaitState(LocalCluster cluster, String server, java.util.function.Predicate<String> ok,
            long millis) throws Exception {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        String state = cluster.haproxyRuntime().relayView().get(server);
        while (!ok.test(state) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            state = cluster.haproxyRuntime().relayView().get(server);
        }
        return state;
    }

    /** One RESP connection; one command at a time. */
    private static final class Resp implements AutoCloseable {
        private final Socket socket;
        private final OutputStream out;
        private final BufferedReader in;

        Resp(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(10_000);
            out = socket.getOutputStream();
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }

        String rpush(String key, String value) throws IOException {
            send("RPUSH", key, value);
            String line = in.readLine();
            if (line == null) {
                throw new IOException("connection closed by the other side");
            }
            return line;
        }

        /** The relay behind this connection, from INFO's relay_name. */
        String relayName() throws IOException {
            send("INFO");
            String header = in.readLine();
            assertThat(header).startsWith("$");
            char[] body = new char[Integer.parseInt(header.substring(1)) + 2];
            int read = 0;
            while (read < body.length) {
                int r = in.read(body, read, body.length - read);
                if (r < 0) {
                    throw new IOException("connection closed during INFO");
                }
                read += r;
            }
            for (String l : new String(body).split("\r\n")) {
                if (l.startsWith("relay_name:")) {
                    return l.substring("relay_name:".length());
                }
            }
            throw new AssertionError("no relay_name in INFO");
        }

        private void send(String... args) throws IOException {
            StringBuilder b = new StringBuilder("*").append(args.length).append("\r\n");
            for (String a : args) {
                byte[] bytes = a.getBytes(StandardCharsets.UTF_8);
                b.append('$').append(bytes.length).append("\r\n").append(a).append("\r\n");
            }
            out.write(b.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
