package dev.spillway.chaos.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.RelayServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import redis.clients.jedis.Jedis;

/**
 * Real producers — redis-cli, redis-benchmark, Jedis, the Redisson client, Node's ioredis, a raw
 * line socket and an HTTP client — push through one relay; every value is then read back from
 * the Redis master the Sentinels name.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RealClientsTest {

    private SentinelGroup group;
    private RelayServer relay;
    private int resp;

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        group = SentinelGroup.start(tmp.resolve("cluster"), SentinelGroup.Options.forTests());
        relay = RelayFixture.start(group, tmp.resolve("spill"), Map.of());
        resp = RelayFixture.port(relay, "resp");
    }

    @AfterAll
    void stop() throws Exception {
        if (relay != null) {
            relay.drain();
        }
        if (group != null) {
            group.close();
        }
    }

    private Node master() throws Exception {
        return group.awaitHealthy(Duration.ofSeconds(10));
    }

    private List<String> list(String key) throws Exception {
        return RelayFixture.list(group, key);
    }

    private static String run(List<String> cmd) throws Exception {
        return Commands.ok(cmd, 120);
    }

    @Test
    void redisCliPushesAndReadsTheReply() throws Exception {
        String out = run(List.of("redis-cli", "-p", String.valueOf(resp), "RPUSH", "cli", "a", "b", "c"));
        assertThat(out.trim()).isEqualTo("3");
        assertThat(run(List.of("redis-cli", "-p", String.valueOf(resp), "LPUSH", "cli", "z")).trim()).isEqualTo("1");
        assertThat(run(List.of("redis-cli", "-p", String.valueOf(resp), "PING")).trim()).isEqualTo("PONG");
        assertThat(run(List.of("redis-cli", "-p", String.valueOf(resp), "GET", "cli")))
                .contains("unknown command 'GET'");
        assertThat(list("cli")).containsExactly("z", "a", "b", "c");
    }

    @Test
    void redisBenchmarkRunsRpushAndLpushThroughTheRelay() throws Exception {
        master().cli("DEL", "bench:list");
        String out = run(List.of("redis-benchmark", "-p", String.valueOf(resp), "-t", "rpush,lpush", "-n", "20000",
                "-c", "20", "-d", "16", "-q"));
        assertThat(out).contains("RPUSH").contains("LPUSH");
        // redis-benchmark pushes to "mylist"
        assertThat(Long.parseLong(master().cli("LLEN", "mylist"))).isEqualTo(40_000);
    }

    @Test
    void jedisPushesThroughTheRelay() throws Exception {
        try (Jedis jedis = new Jedis("127.0.0.1", resp)) {
            assertThat(jedis.ping()).isEqualTo("PONG");
            for (int i = 0; i < 100; i++) {
                assertThat(jedis.rpush("jedis", "j" + i, "k" + i)).isEqualTo(2);
            }
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            expected.add("j" + i);
            expected.add("k" + i);
        }
        assertThat(list("jedis")).containsExactlyElementsOf(expected);
    }

    @Test
    void redissonClientPushesThroughTheRelay() throws Exception {
        Config c = new Config();
        c.setCodec(StringCodec.INSTANCE);
        c.useSingleServer().setAddress("redis://127.0.0.1:" + resp).setConnectionMinimumIdleSize(1)
                .setConnectionPoolSize(2);
        RedissonClient client = Redisson.create(c);
        try {
            for (int i = 0; i < 50; i++) {
                assertThat(client.<String>getList("redisson").add("r" + i)).isTrue();
            }
        } finally {
            client.shutdown();
        }
        assertThat(list("redisson")).hasSize(50).startsWith("r0", "r1").endsWith("r49");
    }

    @Test
    void nodeIoredisPushesThroughTheRelay() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "ioredis"));
        if (!Files.exists(dir.resolve("node_modules/ioredis"))) {
            run(List.of("npm", "install", "--prefix", dir.toString(), "--no-audit", "--no-fund", "ioredis@5"));
        }
        Path script = dir.resolve("push.js");
        Files.writeString(script, """
                const Redis = require('ioredis');
                const r = new Redis({port: Number(process.argv[2]), host: '127.0.0.1', maxRetriesPerRequest: 1});
                (async () => {
                  for (let i = 0; i < 100; i++) {
                    const n = await r.rpush('ioredis', 'n' + i);
                    if (n !== 1) throw new Error('unexpected reply ' + n);
                  }
                  await r.quit();
                  console.log('pushed 100');
                })().catch(e => { console.error(e); process.exit(1); });
                """);
        assertThat(run(List.of("node", script.toString(), String.valueOf(resp)))).contains("pushed 100");
        assertThat(list("ioredis")).hasSize(100).startsWith("n0").endsWith("n99");
    }

    @Test
    void lineSocketGetsOkPerLine() throws Exception {
        try (Socket s = new Socket("127.0.0.1", RelayFixture.port(relay, "line"))) {
            OutputStream out = s.getOutputStream();
            out.write("line one\nline two\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("OK");
            assertThat(in.readLine()).isEqualTo("OK");
        }
        assertThat(list("data_queue")).containsSubsequence("line one", "line two");
    }

    @Test
    void aClientThatHalfClosesAfterSendingStillGetsItsAnswers() throws Exception {
        try (Socket s = new Socket("127.0.0.1", RelayFixture.port(relay, "line"))) {
            s.getOutputStream().write("half one\nhalf two\n".getBytes(StandardCharsets.UTF_8));
            s.shutdownOutput(); // what `printf ... | nc -q1` does at the end of its input
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("OK");
            assertThat(in.readLine()).isEqualTo("OK");
            assertThat(in.readLine()).as("then the relay closes").isNull();
        }
        assertThat(list("data_queue")).containsSubsequence("half one", "half two");
    }

    @Test
    void httpPostsSingleAndNdjsonBodies() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + RelayFixture.port(relay, "http") + "/v1/lists/http";
        HttpResponse<String> one = http.send(HttpRequest.newBuilder(URI.create(base))
                .POST(HttpRequest.BodyPublishers.ofString("{\"order\":1}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(one.statusCode()).isEqualTo(200);
        assertThat(one.body()).isEqualTo("{\"accepted\":1}");
        HttpResponse<String> many = http.send(HttpRequest.newBuilder(URI.create(base))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString("{\"order\":2}\n{\"order\":3}\n")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(many.body()).isEqualTo("{\"accepted\":2}");
        assertThat(list("http")).containsExactly("{\"order\":1}", "{\"order\":2}", "{\"order\":3}");
    }

    @Test
    void healthReportsTheMasterAndAnEmptySpill() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + RelayFixture.port(relay, "admin") + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("\"status\":\"ok\"").contains("\"master\":\"" + master().address() + "\"")
                .contains("\"breaker\":\"CLOSED\"").contains("\"pendingMessages\":0");
    }
}
