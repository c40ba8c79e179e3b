package dev.spillway.chaos.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.RelayServer;
import dev.spillway.relay.config.ConfigException;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/**
 * TLS on every listener, with the real clients of {@link RealClientsTest} unchanged but for their
 * TLS options — redis-cli {@code --tls --cacert}, Jedis with SSL, Redisson {@code rediss://} with
 * a trust store, Node's ioredis with {@code tls}, curl {@code --cacert}, a TLS socket on the line
 * listener — against certificates
 * made by openssl; and a second relay requiring client certificates (mutual TLS).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IngressTlsTest {

    private SentinelGroup group;
    private TestCertificates certs;
    private RelayServer tls;
    private MetricRegistry tlsMetrics;
    private RelayServer mutual;
    private Path tmp;

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        this.tmp = tmp;
        group = SentinelGroup.start(tmp.resolve("cluster"), SentinelGroup.Options.forTests());
        certs = TestCertificates.create(tmp.resolve("pki"));
        tlsMetrics = new MetricRegistry();
        tls = start("tls", tlsEnv(false), tlsMetrics);
        mutual = start("mutual", tlsEnv(true), new MetricRegistry());
    }

    private Map<String, String> tlsEnv(boolean clientCertificates) {
        Map<String, String> env = new HashMap<>(Map.of("SPILLWAY_LISTENERS_RESP_TLS", "true",
                "SPILLWAY_LISTENERS_LINE_TLS", "true", "SPILLWAY_LISTENERS_HTTP_TLS", "true",
                "SPILLWAY_LISTENERS_ADMIN_TLS", "true",
                "SPILLWAY_SECURITY_TLS_CERT_FILE", certs.serverCert.toString(),
                "SPILLWAY_SECURITY_TLS_KEY_FILE", certs.serverKey.toString()));
        if (clientCertificates) {
            env.put("SPILLWAY_SECURITY_TLS_CLIENT_CA_FILE", certs.caCert.toString());
        }
        return env;
    }

    private RelayServer start(String name, Map<String, String> env, MetricRegistry metrics) throws Exception {
        RelayServer server = RelayServer.start(RelayFixture.config(group, tmp.resolve(name), env), metrics);
        long deadline = System.currentTimeMillis() + 20_000;
        while (!server.relay().redisConnected() && System.currentTimeMillis() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        return server;
    }

    @AfterAll
    void stop() throws Exception {
        for (RelayServer r : new RelayServer[] {tls, mutual}) {
            if (r != null) {
                r.drain();
            }
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

    /** Runs {@code cmd}; its exit status and output (stdout and stderr). */
    private static Commands.Result run(List<String> cmd) throws Exception {
        return Commands.run(cmd, 60);
    }

    private List<String> redisCli(RelayServer relay, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("redis-cli", "--tls", "--cacert", certs.caCert.toString(),
                "-h", "127.0.0.1", "-p", String.valueOf(RelayFixture.port(relay, "resp"))));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private DefaultJedisClientConfig jedisTls(boolean clientCert) throws Exception {
        SSLParameters verifyHost = new SSLParameters();
        verifyHost.setEndpointIdentificationAlgorithm("HTTPS");
        return DefaultJedisClientConfig.builder().ssl(true).timeoutMillis(5_000)
                .sslSocketFactory(certs.clientContext(clientCert).getSocketFactory()).sslParameters(verifyHost).build();
    }

    @Test
    void redisCliPushesOverTls() throws Exception {
        Commands.Result r = run(redisCli(tls, "RPUSH", "tls:cli", "a", "b"));
        assertThat(r.out().trim()).as(r.out()).isEqualTo("2");
        assertThat(run(redisCli(tls, "PING")).out().trim()).isEqualTo("PONG");
        assertThat(list("tls:cli")).containsExactly("a", "b");
    }

    @Test
    void jedisPushesOverTlsCheckingTheHostName() throws Exception {
        try (Jedis jedis = new Jedis(new HostAndPort("127.0.0.1", RelayFixture.port(tls, "resp")), jedisTls(false))) {
            for (int i = 0; i < 20; i++) {
                assertThat(jedis.rpush("tls:jedis", "j" + i)).isEqualTo(1);
            }
        }
        assertThat(list("tls:jedis")).hasSize(20).startsWith("j0").endsWith("j19");
    }

    @Test
    void redissonPushesOverRedissWithATrustStore() throws Exception {
        Config c = new Config();
        c.setCodec(StringCodec.INSTANCE);
        c.useSingleServer().setAddress("rediss://127.0.0.1:" + RelayFixture.port(tls, "resp"))
                .setSslTruststore(certs.trustStore.toUri().toURL())
                .setSslTruststorePassword(new String(TestCertificates.STORE_PASSWORD))
                .setConnectionMinimumIdleSize(1).setConnectionPoolSize(2);
        RedissonClient client = Redisson.create(c);
        try {
            for (int i = 0; i < 20; i++) {
                assertThat(client.<String>getList("tls:redisson").add("r" + i)).isTrue();
            }
        } finally {
            client.shutdown();
        }
        assertThat(list("tls:redisson")).hasSize(20).startsWith("r0").endsWith("r19");
    }

    @Test
    void nodeIoredisPushesOverTls() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "ioredis"));
        if (!Files.exists(dir.resolve("node_modules/ioredis"))) {
            assertThat(run(List.of("npm", "install", "--prefix", dir.toString(), "--no-audit", "--no-fund",
                    "ioredis@5")).exit()).isZero();
        }
        Path script = dir.resolve("push-tls.js");
        Files.writeString(script, """
                const fs = require('fs');
                const Redis = require('ioredis');
                const r = new Redis({port: Number(process.argv[2]), host: '127.0.0.1', maxRetriesPerRequest: 1,
                                     tls: {ca: fs.readFileSync(process.argv[3])}});
                (async () => {
                  for (let i = 0; i < 20; i++) {
                    const n = await r.rpush('tls:ioredis', 'n' + i);
                    if (n !== 1) throw new Error('unexpected reply ' + n);
                  }
                  await r.quit();
                  console.log('pushed 20');
                })().catch(e => { console.error(e); process.exit(1); });
                """);
        Commands.Result r = run(List.of("node", script.toString(), String.valueOf(RelayFixture.port(tls, "resp")),
                certs.caCert.toString()));
        assertThat(r.out()).as(r.out()).contains("pushed 20");
        assertThat(list("tls:ioredis")).hasSize(20).startsWith("n0").endsWith("n19");
    }

    @Test
    void curlPostsOverHttpsAndReadsTheAdminEndpoints() throws Exception {
        Commands.Result r = run(List.of("curl", "-sS", "--max-time", "20", "--cacert", certs.caCert.toString(), "--data-binary",
                "{\"order\":1}", "https://127.0.0.1:" + RelayFixture.port(tls, "http") + "/v1/lists/tls:curl"));
        assertThat(r.out()).as(r.out()).isEqualTo("{\"accepted\":1}");
        Commands.Result health = run(List.of("curl", "-sS", "--max-time", "20", "--cacert", certs.caCert.toString(),
                "https://localhost:" + RelayFixture.port(tls, "admin") + "/health/ready"));
        assertThat(health.out()).contains("\"status\":\"ok\"");
        assertThat(list("tls:curl")).containsExactly("{\"order\":1}");
    }

    @Test
    void theLineListenerSpeaksTlsToo() throws Exception {
        try (SSLSocket s = (SSLSocket) certs.clientContext(false).getSocketFactory().createSocket("127.0.0.1",
                RelayFixture.port(tls, "line"))) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write("tls line one\ntls line two\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("OK");
            assertThat(in.readLine()).isEqualTo("OK");
        }
        assertThat(list("data_queue")).containsSubsequence("tls line one", "tls line two");
    }

    @Test
    void failedHandshakesAreCountedAndClosedWithoutDisturbingOtherConnections() throws Exception {
        long before = tlsMetrics.meter("ingress.resp.tls-handshake-failures").getCount();
        try (Jedis jedis = new Jedis(new HostAndPort("127.0.0.1", RelayFixture.port(tls, "resp")), jedisTls(false))) {
            assertThat(jedis.rpush("tls:steady", "before")).isEqualTo(1);
            Commands.Result plain = run(List.of("redis-cli", "-p", String.valueOf(RelayFixture.port(tls, "resp")),
                    "RPUSH", "tls:plain", "x"));
            assertThat(plain.out()).doesNotContain("(integer)").isNotEqualTo("1\n");
            try (Socket garbage = new Socket("127.0.0.1", RelayFixture.port(tls, "resp"))) {
                garbage.setSoTimeout(10_000);
                garbage.getOutputStream().write("*3\r\n$5\r\nRPUSH\r\n$9\r\ntls:plain\r\n$1\r\nx\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                assertThat(garbage.getInputStream().read()).as("closed without a reply").isEqualTo(-1);
            }
            assertThat(jedis.rpush("tls:steady", "after")).isEqualTo(1);
        }
        assertThat(tlsMetrics.meter("ingress.resp.tls-handshake-failures").getCount()).isGreaterThanOrEqualTo(before + 2);
        assertThat(list("tls:steady")).containsExactly("before", "after");
        assertThat(master().cli("EXISTS", "tls:plain")).isEqualTo("0");
    }

    @Test
    void mutualTlsTakesAClientCertificateAndRefusesAClientWithout() throws Exception {
        Commands.Result withCert = run(redisCli(mutual, "--cert", certs.clientCert.toString(), "--key",
                certs.clientKey.toString(), "RPUSH", "mtls:cli", "yes"));
        assertThat(withCert.out().trim()).as(withCert.out()).isEqualTo("1");
        Commands.Result without = run(redisCli(mutual, "RPUSH", "mtls:cli", "no"));
        assertThat(without.out().trim()).as(without.out()).isNotEqualTo("1");
        try (Jedis jedis = new Jedis(new HostAndPort("127.0.0.1", RelayFixture.port(mutual, "resp")),
                jedisTls(true))) {
            assertThat(jedis.rpush("mtls:cli", "jedis")).isEqualTo(1);
        }
        String url = "https://127.0.0.1:" + RelayFixture.port(mutual, "http") + "/v1/lists/mtls:curl";
        Commands.Result curlWithout = run(List.of("curl", "-sS", "--max-time", "20", "--cacert", certs.caCert.toString(),
                "--data-binary", "no", url));
        assertThat(curlWithout.exit()).as(curlWithout.out()).isNotZero();
        Commands.Result curlWith = run(List.of("curl", "-sS", "--max-time", "20", "--cacert", certs.caCert.toString(),
                "--cert", certs.clientCert.toString(), "--key", certs.clientKey.toString(), "--data-binary", "yes", url));
        assertThat(curlWith.out()).isEqualTo("{\"accepted\":1}");
        assertThat(list("mtls:cli")).containsExactly("yes", "jedis");
        assertThat(list("mtls:curl")).containsExactly("yes");
    }

    @Test
    void aConnectionPastTheLimitReadsTheRefusalOverTls() throws Exception {
        Map<String, String> env = tlsEnv(false);
        env.put("SPILLWAY_LIMITS_MAX_CONNECTIONS", "1");
        RelayServer limited = start("limited", env, new MetricRegistry());
        try (Jedis first = new Jedis(new HostAndPort("127.0.0.1", RelayFixture.port(limited, "resp")),
                jedisTls(false))) {
            assertThat(first.rpush("tls:limited", "first")).isEqualTo(1);
            try (SSLSocket second = (SSLSocket) certs.clientContext(false).getSocketFactory().createSocket(
                    "127.0.0.1", RelayFixture.port(limited, "resp"))) {
                second.setSoTimeout(5_000);
                second.startHandshake(); // the refusal can only be read once the handshake is through
                BufferedReader in = new BufferedReader(new InputStreamReader(second.getInputStream(),
                        StandardCharsets.UTF_8));
                assertThat(in.readLine()).isEqualTo("-ERR too many connections (limits.maxConnections=1)");
                assertThat(in.read()).as("then closed").isEqualTo(-1);
            }
            assertThat(first.rpush("tls:limited", "still")).isEqualTo(1);
            // acknowledged: in Redis now, or in the spill log and replayed shortly (a slow WAIT spills)
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (list("tls:limited").size() < 2 && System.nanoTime() < deadline) {
                TimeUnit.MILLISECONDS.sleep(100);
            }
        } finally {
            limited.drain();
        }
        assertThat(list("tls:limited")).containsExactly("first", "still");
    }

    @Test
    void aKeyThatCannotBeUsedStopsTheRelayAtStartNamingTheFile() throws Exception {
        Path garbage = Files.writeString(tmp.resolve("garbage.key"), "-----BEGIN PRIVATE KEY-----\nnot a key\n"
                + "-----END PRIVATE KEY-----\n");
        Map<String, String> env = tlsEnv(false);
        env.put("SPILLWAY_SECURITY_TLS_KEY_FILE", garbage.toString());
        assertThatThrownBy(() -> start("bad-key", env, new MetricRegistry())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("keyFile " + garbage);
        env.put("SPILLWAY_SECURITY_TLS_KEY_FILE", tmp.resolve("absent.key").toString());
        assertThatThrownBy(() -> start("no-key", env, new MetricRegistry()))
                .hasMessage("security.tls.keyFile: " + tmp.resolve("absent.key")
                        + " does not exist (expected: a PEM file the relay's user can read)");
    }
}
