package dev.spillway.chaos.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.chaos.check.ListCheck;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.RelayServer;
import dev.spillway.relay.route.Router;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import redis.clients.jedis.Jedis;

/** SIGTERM: health turns 503, new connections are refused, nothing acked is lost, exit 0 in time. */
class RelayLifecycleTest {

    @TempDir
    Path tmp;

    /** Under both transports: native epoll (the default on Linux) and the Java NIO fallback. */
    @ParameterizedTest
    @ValueSource(strings = {"epoll", "nio"})
    void sigtermDrainsAndExitsZeroLosingNothingAcked(String transport) throws Exception {
        try (SentinelGroup group = SentinelGroup.start(tmp.resolve("cluster"), SentinelGroup.Options.forTests())) {
            int resp = freePort();
            int admin = freePort();
            Path yaml = tmp.resolve("relay.yaml");
            Files.writeString(yaml, "name: lifecycle\nlisteners:\n  resp: {port: " + resp + "}\n  line: {port: 0}\n"
                    + "  http: {port: 0}\n  admin: {port: " + admin + "}\n  agent: {port: 0}\nsink:\n  redis:\n    sentinels: ["
                    + String.join(", ", group.sentinelAddresses()) + "]\nspill:\n  dir: " + tmp.resolve("spill")
                    + "\nshutdown:\n  drainTimeout: 5s\n");
            Path jar = relayJar();
            Process relay = new ProcessBuilder("java", "-Dspillway.transport=" + transport, "-jar", jar.toString(),
                    "serve", "--config", yaml.toString()).redirectErrorStream(true).start();
            List<String> log = new ArrayList<>();
            Thread logReader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(relay.getInputStream()))) {
                    String l;
                    while ((l = in.readLine()) != null) {
                        synchronized (log) {
                            log.add(l);
                        }
                    }
                } catch (Exception ignored) {
                    // process ended
                }
            });
            logReader.start();
            awaitHealth(admin, 200, Duration.ofSeconds(30));
            synchronized (log) {
                assertThat(log).as("resp port %d", resp)
                        .anyMatch(l -> l.contains("listening: resp 127.0.0.1:" + resp) && l.contains("admin")
                                && l.contains("transport " + transport));
            }

            Map<Integer, Set<Long>> acked = new ConcurrentHashMap<>();
            Map<Integer, Long> sent = new ConcurrentHashMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong acks = new AtomicLong();
            List<Thread> producers = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                int producer = p;
                acked.put(p, ConcurrentHashMap.newKeySet());
                Thread t = new Thread(() -> {
                    try (Jedis j = new Jedis("127.0.0.1", resp)) {
                        for (long seq = 0; !stop.get() && seq < 1_000_000; seq++) {
                            sent.put(producer, seq + 1);
                            j.rpush("data_queue", ListCheck.value(producer, seq));
                            acked.get(producer).add(seq);
                            acks.incrementAndGet();
                        }
                    } catch (Exception refusedOrClosed) {
                        // BUSY "shutting down" or a closed connection after SIGTERM
                    }
                });
                t.start();
                producers.add(t);
            }
            long deadline = System.currentTimeMillis() + 30_000;
            while (acks.get() < 3_000 && System.currentTimeMillis() < deadline) {
                TimeUnit.MILLISECONDS.sleep(10);
            }
            long termAt = System.nanoTime();
            relay.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
            assertThat(relay.waitFor(15, TimeUnit.SECONDS)).as("exited within drainTimeout + margin").isTrue();
            long exitMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - termAt);
            assertThat(relay.exitValue()).as("exit status").isZero();
            stop.set(true);
            for (Thread t : producers) {
                t.join(10_000);
            }
            logReader.join(5_000);
            synchronized (log) {
                System.out.println("relay log after " + exitMs + " ms, exit " + relay.exitValue() + ":\n"
                        + String.join("\n", log));
                assertThat(log).anyMatch(l -> l.contains("Draining relay 'lifecycle'"));
                assertThat(log).anyMatch(l -> l.contains("Relay 'lifecycle' stopped"));
            }
            try (Socket s = new Socket("127.0.0.1", resp)) {
                throw new AssertionError("a stopped relay still accepted a connection");
            } catch (ConnectException refused) {
                // expected
            }

            // Whatever the drain spilled is replayed by the next relay on the same directory.
            try (RelayServer next = RelayServer.start(RelayFixture.config(group, tmp.resolve("spill"), Map.of()),
                    new MetricRegistry())) {
                long until = System.currentTimeMillis() + 30_000;
                while ((next.relay().router().mode() != Router.Mode.DIRECT || next.relay().spill().pendingMessages() > 0)
                        && System.currentTimeMillis() < until) {
                    TimeUnit.MILLISECONDS.sleep(20);
                }
                Node master = group.awaitHealthy(Duration.ofSeconds(10));
                List<byte[]> list = new ArrayList<>();
                for (String v : master.cli("LRANGE", "data_queue", "0", "-1").split("\n")) {
                    if (!v.isBlank()) {
                        list.add(v.trim().getBytes(StandardCharsets.UTF_8));
                    }
                }
                ListCheck verdict = ListCheck.of(list, acked, sent, false);
                System.out.printf("SIGTERM drain: exit 0 after %d ms; %s%n", exitMs, verdict);
                assertThat(verdict.ok()).as(verdict.toString()).isTrue();
                assertThat(verdict.acked()).isGreaterThanOrEqualTo(3_000);
            }
        }
    }

    @Test
    void healthTurns503TheMomentADrainStarts() throws Exception {
        try (SentinelGroup group = SentinelGroup.start(tmp.resolve("cluster2"), SentinelGroup.Options.forTests())) {
            RelayServer relay = RelayFixture.start(group, tmp.resolve("spill2"), Map.of());
            int admin = RelayFixture.port(relay, "admin");
            awaitHealth(admin, 200, Duration.ofSeconds(10));
            Node master = group.currentMaster().orElseThrow();
            master.freeze(); // a write in flight now hangs until its timeout, so the drain takes a while
            try (Jedis j = new Jedis("127.0.0.1", RelayFixture.port(relay, "resp"))) {
                Thread pusher = new Thread(() -> {
                    try (Jedis k = new Jedis("127.0.0.1", RelayFixture.port(relay, "resp"))) {
                        k.rpush("q", "in flight during the drain");
                    } catch (Exception ignored) {
                        // answered either way
                    }
                });
                pusher.start();
                TimeUnit.MILLISECONDS.sleep(50);
                Thread drainer = new Thread(() -> {
                    try {
                        relay.drain();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                drainer.start();
                awaitHealth(admin, 503, Duration.ofSeconds(2));
                drainer.join(15_000);
                pusher.join(5_000);
                assertThat(drainer.isAlive()).isFalse();
            } finally {
                master.resume();
            }
        }
    }

    @Test
    void theJarSaysItsVersionAndLogsCarryDateAndZone() throws Exception {
        Process version = new ProcessBuilder("java", "-jar", relayJar().toString(), "--version")
                .redirectErrorStream(true).start();
        assertThat(version.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(version.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        assertThat(out).matches("spillway relay \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?");
        Path yaml = tmp.resolve("bad.yaml");
        Files.writeString(yaml, "listeners:\n  resp: {port: 0}\n  line: {port: 0}\n  http: {port: 0}\n  admin: {port: 0}\n"
                + "  agent: {port: 0}\nspill:\n  dir: " + tmp.resolve("version-spill") + "\nsink:\n  redis:\n"
                + "    sentinels: [127.0.0.1:" + freePort() + "]\n");
        Process relay = new ProcessBuilder("java", "-jar", relayJar().toString(), "serve", "--config", yaml.toString())
                .redirectErrorStream(true).start();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(relay.getInputStream()))) {
            String first = in.readLine();
            assertThat(first).as("a log line starts with an ISO-8601 date, time and zone offset")
                    .matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}(Z|[+-]\\d{2}:\\d{2}) .*");
        } finally {
            relay.destroyForcibly();
            relay.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void jsonLogsAreOneObjectPerLineWithTheEventsFields() throws Exception {
        Path yaml = tmp.resolve("json.yaml");
        int admin = freePort();
        Files.writeString(yaml, "name: jsonlog\nlisteners:\n  resp: {port: 0}\n  line: {port: 0}\n  http: {port: 0}\n"
                + "  admin: {port: " + admin + "}\n  agent: {port: 0}\nspill:\n  dir: " + tmp.resolve("json-spill")
                + "\nsink:\n  redis:\n    sentinels: [127.0.0.1:" + freePort() + "]\n");
        ProcessBuilder pb = new ProcessBuilder("java", "-jar", relayJar().toString(), "serve", "--config",
                yaml.toString(), "--log-format", "json").redirectErrorStream(true);
        pb.environment().put("SPILLWAY_LOG_LEVEL", "WARN"); // events are kept whatever the level
        Process relay = pb.start();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(relay.getInputStream()))) {
            com.fasterxml.jackson.databind.JsonNode start = null;
            for (int i = 0; i < 50 && start == null; i++) {
                String line = in.readLine();
                assertThat(line).as("the relay's output ended before its start event").isNotNull();
                com.fasterxml.jackson.databind.JsonNode node = json.readTree(line); // every line parses
                assertThat(node.path("level").asText()).isNotEmpty();
                if (node.path("loggerName").asText().equals("spillway.events")) {
                    start = node;
                }
            }
            assertThat(start).as("a start event").isNotNull();
            assertThat(start.path("message").asText()).contains("Relay 'jsonlog'").contains("listening");
            assertThat(start.path("kvpList").toString()).contains("{\"event\":\"start\"}")
                    .contains("{\"relay\":\"jsonlog\"}");
            assertThat(start.path("timestamp").asLong()).isPositive();
            HttpResponse<String> events = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + admin + "/events")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(events.statusCode()).isEqualTo(200);
            com.fasterxml.jackson.databind.JsonNode list = json.readTree(events.body()).path("events");
            assertThat(list.get(0).path("event").asText()).isEqualTo("start");
            assertThat(list.get(0).path("fields").path("relay").asText()).isEqualTo("jsonlog");
            assertThat(list.get(0).path("time").asText()).matches("\\d{4}-\\d{2}-\\d{2}T.*Z");
        } finally {
            relay.destroy();
            relay.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void aSecondRelayOnTheSameSpillDirectoryExitsNamingItAndTheHolder() throws Exception {
        Path spill = tmp.resolve("shared-spill");
        Path yaml = tmp.resolve("second.yaml");
        Files.writeString(yaml, "name: second\nlisteners:\n  resp: {port: " + freePort() + "}\n  line: {port: 0}\n"
                + "  http: {port: 0}\n  admin: {port: " + freePort() + "}\n  agent: {port: 0}\nsink:\n  redis:\n    sentinels: [127.0.0.1:"
                + freePort() + "]\nspill:\n  dir: " + spill + "\n");
        try (dev.spillway.relay.spill.SpillLog holder = dev.spillway.relay.spill.SpillLog.open(
                dev.spillway.relay.spill.SpillLogConfig.builder(spill).build())) {
            Process second = new ProcessBuilder("java", "-jar", relayJar().toString(), "serve", "--config",
                    yaml.toString()).redirectErrorStream(true).start();
            assertThat(second.waitFor(30, TimeUnit.SECONDS)).as("exits at start").isTrue();
            String out = new String(second.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(second.exitValue()).as(out).isEqualTo(1);
            assertThat(out).contains("cannot start: spill directory " + spill.toAbsolutePath()
                    + " is in use by another process (pid " + ProcessHandle.current().pid() + ")");
            assertThat(holder.pendingMessages()).isZero();
        }
    }

    @Test
    void aSpillDirectoryThatCannotBeCreatedStopsTheStartNamingIt() throws Exception {
        Path notADirectory = Files.writeString(tmp.resolve("a-file"), "");
        Path yaml = tmp.resolve("unwritable.yaml");
        Files.writeString(yaml, "listeners:\n  resp: {port: " + freePort() + "}\n  line: {port: 0}\n"
                + "  http: {port: 0}\n  admin: {port: " + freePort() + "}\n  agent: {port: 0}\nsink:\n  redis:\n    sentinels: [127.0.0.1:"
                + freePort() + "]\nspill:\n  dir: " + notADirectory.resolve("spill") + "\n");
        Process relay = new ProcessBuilder("java", "-jar", relayJar().toString(), "serve", "--config", yaml.toString())
                .redirectErrorStream(true).start();
        assertThat(relay.waitFor(30, TimeUnit.SECONDS)).as("exits at start").isTrue();
        String out = new String(relay.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(relay.exitValue()).as(out).isEqualTo(1);
        assertThat(out).contains("spillway relay: cannot start: " + notADirectory);
        assertThat(out).as("one line, not a stack trace").doesNotContain("\tat ");
    }

    private static void awaitHealth(int adminPort, int status, Duration timeout) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        int last = -1;
        while (System.nanoTime() < deadline) {
            try {
                last = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/health"))
                        .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                if (last == status) {
                    return;
                }
            } catch (java.io.IOException notYet) {
                // not listening yet
            }
            TimeUnit.MILLISECONDS.sleep(10);
        }
        throw new AssertionError("/health did not answer " + status + " within " + timeout + " (last " + last + ")");
    }

    static Path relayJar() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            Path jar = d.resolve("relay/target/relay.jar");
            if (Files.isRegularFile(jar)) {
                return jar;
            }
        }
        throw new IllegalStateException("relay/target/relay.jar not found: build the relay module first");
    }

    private static int freePort() throws Exception {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
