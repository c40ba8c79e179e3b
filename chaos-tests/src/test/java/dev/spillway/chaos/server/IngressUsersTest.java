package dev.spillway.chaos.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.RelayServer;
import dev.spillway.relay.config.RelayConfig;
import dev.spillway.relay.spill.SpillLog;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * Ingress users with key patterns, the default user's password from a file and the admin token,
 * driven by real clients: the right user's pushes land in Redis; no AUTH, a wrong password or a
 * key outside the user's patterns is refused with Redis's own error (HTTP 401/403) and nothing of
 * it reaches Redis or the spill; no secret shows in a log line.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IngressUsersTest {

    private static final String O_PASS = "o-pass-7Qx";
    private static final String O_TOKEN = "o-token-Zr2";
    private static final String LEGACY = "legacy-pw-Lk9";
    private static final String ADMIN = "admin-token-Vv4";

    private SentinelGroup group;
    private RelayServer relay;
    private MetricRegistry metrics;
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();

    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
        group = SentinelGroup.start(tmp.resolve("cluster"), SentinelGroup.Options.forTests());
        Path passwordFile = Files.writeString(tmp.resolve("password"), LEGACY + "\n");
        Path adminFile = Files.writeString(tmp.resolve("admin-token"), ADMIN + "\n");
        String users = "[{name: orders, password: '#" + sha256(O_PASS) + "', tokens: ['#" + sha256(O_TOKEN)
                + "'], keys: ['orders:*']}, {name: lines, keys: [data_queue]}]";
        RelayConfig config = RelayFixture.config(group, tmp.resolve("spill"), Map.of(
                "SPILLWAY_SECURITY_USERS", users, "SPILLWAY_SECURITY_PASSWORD_FILE", passwordFile.toString(),
                "SPILLWAY_SECURITY_ADMIN_TOKEN_FILE", adminFile.toString(), "SPILLWAY_LISTENERS_LINE_USER", "lines"));
        assertThat(config.toString()).doesNotContain(O_PASS, O_TOKEN, LEGACY, ADMIN, sha256(O_PASS));
        metrics = new MetricRegistry();
        relay = RelayServer.start(config, metrics);
        long deadline = System.currentTimeMillis() + 20_000;
        while (!relay.relay().redisConnected() && System.currentTimeMillis() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
    }

    @AfterAll
    void stop() throws Exception {
        if (relay != null) {
            relay.drain();
        }
        if (group != null) {
            group.close();
        }
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        for (ILoggingEvent e : logs.list) {
            String line = e.getFormattedMessage() + (e.getThrowableProxy() == null ? "" : e.getThrowableProxy().getMessage());
            assertThat(line).as("log line").doesNotContain(O_PASS, O_TOKEN, LEGACY, ADMIN, sha256(O_PASS));
        }
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private Node master() throws Exception {
        return group.awaitHealthy(Duration.ofSeconds(10));
    }

    private List<String> list(String key) throws Exception {
        return RelayFixture.list(group, key);
    }

    private static String run(List<String> cmd) throws Exception {
        return Commands.run(cmd, 60).out();
    }

    private List<String> cli(String... args) {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "--no-auth-warning", "-p",
                String.valueOf(RelayFixture.port(relay, "resp"))));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private List<String> curl(String listener, String path, String... args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "-o", "/dev/null",
                "-w", "%{http_code}"));
        cmd.addAll(List.of(args));
        cmd.add("http://127.0.0.1:" + RelayFixture.port(relay, listener) + path);
        return cmd;
    }

    /** Nothing refused was spilled: Redis is healthy, so nothing at all went to the spill log. */
    private void assertNothingSpilled() {
        assertThat(metrics.meter(MetricRegistry.name(SpillLog.class, "appends")).getCount()).isZero();
        assertThat(relay.relay().spill().pendingMessages()).isZero();
    }

    @Test
    void theRightUserPushesWithRedisCliJedisAndRedisson() throws Exception {
        assertThat(run(cli("--user", "orders", "--pass", O_PASS, "RPUSH", "orders:cli", "a", "b")).trim())
                .isEqualTo("2");
        try (Jedis jedis = new Jedis(new HostAndPort("127.0.0.1", RelayFixture.port(relay, "resp")),
                DefaultJedisClientConfig.builder().user("orders").password(O_PASS).build())) {
            assertThat(jedis.rpush("orders:jedis", "j")).isEqualTo(1);
            assertThatThrownBy(() -> jedis.rpush("payments:jedis", "x")).isInstanceOf(JedisDataException.class)
                    .hasMessage("NOPERM No permissions to access a key");
            assertThat(jedis.rpush("orders:jedis", "k")).as("the connection carries on").isEqualTo(1);
        }
        Config c = new Config();
        c.setCodec(StringCodec.INSTANCE);
        c.useSingleServer().setAddress("redis://127.0.0.1:" + RelayFixture.port(relay, "resp")).setUsername("orders")
                .setPassword(O_PASS).setConnectionMinimumIdleSize(1).setConnectionPoolSize(2);
        RedissonClient client = Redisson.create(c);
        try {
            assertThat(client.<String>getList("orders:redisson").add("r")).isTrue();
        } finally {
            client.shutdown();
        }
        assertThat(list("orders:cli")).containsExactly("a", "b");
        assertThat(list("orders:jedis")).containsExactly("j", "k");
        assertThat(list("orders:redisson")).containsExactly("r");
        assertThat(master().cli("EXISTS", "payments:jedis")).isEqualTo("0");
    }

    @Test
    void noAuthAWrongPasswordAndAKeyOutsideThePatternsWriteNothing() throws Exception {
        assertThat(run(cli("RPUSH", "orders:noauth", "x"))).contains("NOAUTH Authentication required.");
        assertThat(run(cli("--user", "orders", "--pass", "wrong", "RPUSH", "orders:wrongpass", "x")))
                .contains("WRONGPASS invalid username-password pair or user is disabled.");
        assertThat(run(cli("--user", "nobody", "--pass", O_PASS, "RPUSH", "orders:wrongpass", "x")))
                .contains("WRONGPASS");
        assertThat(run(cli("--user", "orders", "--pass", O_PASS, "RPUSH", "payments:1", "x", "y")))
                .contains("NOPERM No permissions to access a key");
        assertThat(run(cli("--user", "orders", "--pass", O_PASS, "LPUSH", "orders", "x")))
                .as("'orders:*' does not match 'orders'").contains("NOPERM");
        for (String key : List.of("orders:noauth", "orders:wrongpass", "payments:1", "orders")) {
            assertThat(master().cli("EXISTS", key)).as(key).isEqualTo("0");
        }
        assertThat(metrics.meter("ingress.resp.rejected.no-permission").getCount()).isGreaterThanOrEqualTo(3);
        assertThat(metrics.meter("ingress.resp.auth-failures").getCount()).isGreaterThanOrEqualTo(2);
        assertNothingSpilled();
    }

    @Test
    void theDefaultUsersPasswordFromItsFileMayPushAnywhere() throws Exception {
        assertThat(run(cli("-a", LEGACY, "RPUSH", "anything:legacy", "v")).trim()).isEqualTo("1");
        assertThat(list("anything:legacy")).containsExactly("v");
    }

    @Test
    void httpAnswers401WithoutTheToken403OutsideThePatternsAnd200Otherwise() throws Exception {
        assertThat(run(curl("http", "/v1/lists/orders:http", "--data-binary", "x"))).isEqualTo("401");
        assertThat(run(curl("http", "/v1/lists/orders:http", "--data-binary", "x", "-H",
                "Authorization: Bearer " + O_PASS))).isEqualTo("401");
        assertThat(run(curl("http", "/v1/lists/payments:http", "--data-binary", "x", "-H",
                "Authorization: Bearer " + O_TOKEN))).isEqualTo("403");
        assertThat(master().cli("EXISTS", "payments:http")).isEqualTo("0");
        assertThat(master().cli("EXISTS", "orders:http")).isEqualTo("0");
        assertThat(run(curl("http", "/v1/lists/orders:http", "--data-binary", "ok", "-H",
                "Authorization: Bearer " + O_TOKEN))).isEqualTo("200");
        assertThat(list("orders:http")).containsExactly("ok");
        assertNothingSpilled();
    }

    @Test
    void theLineListenerPushesAsItsUser() throws Exception {
        try (Socket s = new Socket("127.0.0.1", RelayFixture.port(relay, "line"))) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("as lines\n".getBytes(StandardCharsets.UTF_8));
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).isEqualTo("OK");
        }
        assertThat(list("data_queue")).contains("as lines");
    }

    @Test
    void theAdminEndpointsWantTheTokenButTheProbesDoNot() throws Exception {
        for (String path : List.of("/health", "/metrics", "/metrics/prometheus", "/dashboard", "/peers")) {
            assertThat(run(curl("admin", path))).as(path).isEqualTo("401");
            assertThat(run(curl("admin", path, "-H", "Authorization: Bearer wrong"))).as(path).isEqualTo("401");
            assertThat(run(curl("admin", path, "-H", "Authorization: Bearer " + ADMIN))).as(path).isEqualTo("200");
        }
        assertThat(run(curl("admin", "/health/live"))).isEqualTo("200");
        assertThat(run(curl("admin", "/health/ready"))).isEqualTo("200");
    }
}
