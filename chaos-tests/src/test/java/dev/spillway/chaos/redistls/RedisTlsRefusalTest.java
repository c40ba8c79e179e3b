package dev.spillway.chaos.redistls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.chaos.topology.Certificates;
import dev.spillway.chaos.topology.GroupSecurity;
import dev.spillway.chaos.topology.SentinelGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.Jedis;

/**
 * A relay whose TLS or credentials the Sentinel group refuses does not start: it exits 1 before
 * any listener opens (so it acknowledges nothing), naming the node, what failed and the setting
 * to fix — and never a password. Real {@code redis-server} / {@code redis-sentinel} on TLS ports
 * only, with client certificates required and ACL users ({@link GroupSecurity}).
 */
class RedisTlsRefusalTest {

    private static final Duration EXIT_WITHIN = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;

    private static GroupSecurity security;
    private static SentinelGroup group;

    @BeforeAll
    static void startGroup() throws Exception {
        security = GroupSecurity.create(tmp.resolve("pki"));
        group = SentinelGroup.start(tmp.resolve("group"), SentinelGroup.Options.forTests().withSecurity(security));
    }

    @AfterAll
    static void stopGroup() {
        if (group != null) {
            group.close();
        }
    }

    @Test
    void aCaThatDidNotSignTheServersStopsTheRelayAtStart() throws Exception {
        Certificates other = Certificates.make(tmp.resolve("other-ca"), "IP:127.0.0.1");
        Map<String, Object> redis = settings(security, "wrong-ca");
        tls(redis).put("caFile", other.caFile().toString());
        String out = refused("wrong-ca", redis);
        assertThat(out).contains("Sentinel " + group.sentinelAddresses().get(0) + ": TLS handshake failed")
                .contains("its certificate is not signed by a CA in sink.redis.tls.caFile, " + other.caFile() + ")");
    }

    @Test
    void aWrongRedisPasswordStopsTheRelayAtStart() throws Exception {
        Map<String, Object> redis = settings(security, "wrong-password");
        redis.put("passwordFile", Files.writeString(tmp.resolve("wrong.pass"), "not-the-password\n").toString());
        String out = refused("wrong-password", redis);
        String master = group.currentMaster().orElseThrow().address();
        assertThat(out).contains("Redis master " + master + " (named by Sentinel ")
                .contains("authentication refused: AUTH: WRONGPASS")
                .contains("check sink.redis.username and sink.redis.password or passwordFile")
                .doesNotContain("not-the-password");
    }

    @Test
    void aWrongSentinelPasswordStopsTheRelayAtStart() throws Exception {
        Map<String, Object> redis = settings(security, "wrong-sentinel-password");
        redis.remove("sentinelPasswordFile");
        redis.put("sentinelPassword", "not-the-sentinel-password");
        String out = refused("wrong-sentinel-password", redis);
        for (String sentinel : group.sentinelAddresses()) {
            assertThat(out).contains("Sentinel " + sentinel + ": authentication refused: AUTH: WRONGPASS");
        }
        assertThat(out).contains("check sink.redis.sentinelUsername and sink.redis.sentinelPassword")
                .doesNotContain("not-the-sentinel-password");
    }

    @Test
    void aServerCertificateThatDoesNotNameTheHostIsRefusedUnlessVerificationIsOff() throws Exception {
        GroupSecurity elsewhere = GroupSecurity.create(Certificates.make(tmp.resolve("pki-elsewhere"),
                "DNS:redis.elsewhere.example"));
        try (SentinelGroup misnamed = SentinelGroup.start(tmp.resolve("group-elsewhere"),
                SentinelGroup.Options.forTests().withSecurity(elsewhere))) {
            Map<String, Object> redis = settings(elsewhere, "misnamed");
            String out = refused("misnamed", misnamed, redis);
            assertThat(out).contains("Sentinel " + misnamed.sentinelAddresses().get(0) + ": TLS handshake failed")
                    .contains("its certificate does not name 127.0.0.1: add it to the certificate's subjectAltName")
                    .contains("sink.redis.tls.verifyHostname: false");

            tls(redis).put("verifyHostname", false); // the same CA and certificates: only the name was wrong
            try (RelayProcess relay = RelayProcess.start(tmp.resolve("misnamed-unverified"), misnamed, redis)) {
                assertThat(relay.awaitListening(Duration.ofSeconds(60))).as(relay.output()).isTrue();
                long pushed;
                try (Jedis producer = new Jedis("127.0.0.1", relay.respPort())) {
                    pushed = producer.rpush("tls:unverified", "written over TLS");
                }
                assertThat(pushed).isEqualTo(1);
                String list = "";
                for (long deadline = System.nanoTime() + 30_000_000_000L; list.isEmpty() // acked: in Redis or spilled
                        && System.nanoTime() < deadline; Thread.sleep(100)) {
                    list = misnamed.awaitHealthy(Duration.ofSeconds(10)).cli("LRANGE", "tls:unverified", "0", "-1");
                }
                assertThat(list).as("delivered over TLS without the hostname check").isEqualTo("written over TLS");
            }
        }
    }

    @Test
    void aPlainTcpRelayAtTlsPortsStartsAndSaysWhyItCannotWrite() throws Exception {
        Map<String, Object> redis = settings(security, "plain");
        redis.remove("tls"); // the ports speak TLS only: each closes the plain connection unanswered
        try (RelayProcess relay = RelayProcess.start(tmp.resolve("plain"), group, redis)) {
            assertThat(relay.awaitListening(Duration.ofSeconds(60))).as("an outage-like failure: the relay starts")
                    .isTrue();
            assertThat(relay.output()).contains("Preflight: Sentinel " + group.sentinelAddresses().get(0)
                    + " closed the connection without answering (").contains(") — if that port speaks TLS, set "
                    + "sink.redis.tls.enabled; starting anyway");
        }
    }

    @Test
    void aRedisUserThatMayNotRunTheWriteScriptOnItsKeysStopsTheRelayAtStart() throws Exception {
        // every command, but only the producers' keys: the script's mark and dead-letter keys are refused
        String out = refused("narrow-redis", asRedisUser("narrow-redis", "narrow", "~orders:*", "+@all"));
        assertThat(out).contains("the relay's Redis user may not do what every write does: EVAL")
                .contains("spillway:hw:preflight spillway:dead-letter").contains("NOPERM")
                .contains("on the keys 'spillway:hw:*' and 'spillway:dead-letter'")
                .doesNotContain("narrow-pass");
    }

    @Test
    void aRedisUserThatMayRunTheScriptOnlyByItsTextStopsTheRelayAtStart() throws Exception {
        // writes go by EVALSHA: a user allowed EVAL alone would fail every batch after its ack
        String out = refused("textonly-redis", asRedisUser("textonly-redis", "textonly", "~*", "+@all", "-evalsha"));
        assertThat(out).contains("the relay's Redis user may not do what every write does: EVALSHA")
                .contains("NOPERM").contains("(it needs EVAL, EVALSHA, WAIT").doesNotContain("textonly-pass");
    }

    @Test
    void aRedisUserThatMayNotAskTheMastersRoleStopsTheRelayAtStart() throws Exception {
        // under minReplicas: all every batch ends in ROLE (the replicas WAIT must have counted)
        String out = refused("norole-redis", asRedisUser("norole-redis", "norole", "~*", "+@all", "-role"));
        assertThat(out).contains("the relay's Redis user may not do what every write does: ROLE")
                .contains("NOPERM").contains("WAIT, ROLE, INFO").doesNotContain("norole-pass");
    }

    @Test
    void aSentinelUserWithoutChannelsStopsTheRelayAtStart() throws Exception {
        // every command but no channel: PSUBSCRIBE * is refused, and the relay would never hear an event
        for (var sentinel : group.sentinelNodes()) {
            sentinel.cli("ACL", "SETUSER", "narrow-watch", "on", ">watch-pass", "+@all", "resetchannels");
        }
        Map<String, Object> redis = settings(security, "narrow-sentinel");
        redis.put("sentinelUsername", "narrow-watch");
        redis.remove("sentinelPasswordFile");
        redis.put("sentinelPassword", "watch-pass");
        String out = refused("narrow-sentinel", redis);
        for (String sentinel : group.sentinelAddresses()) {
            assertThat(out).contains("Sentinel " + sentinel + ": the relay's Sentinel user may not do what the relay "
                    + "does: PSUBSCRIBE *: NOPERM");
        }
        assertThat(out).contains("'+sentinel +ping +psubscribe &*'").doesNotContain("watch-pass");
    }

    /**
     * Settings for a relay that writes as the Redis user {@code user} (password {@code user-pass}),
     * created on the master with the ACL rules {@code rules}.
     */
    private static Map<String, Object> asRedisUser(String name, String user, String... rules) throws Exception {
        List<String> setUser = new java.util.ArrayList<>(List.of("ACL", "SETUSER", user, "on", ">" + user + "-pass"));
        setUser.addAll(List.of(rules));
        group.currentMaster().orElseThrow().cli(setUser.toArray(String[]::new));
        Map<String, Object> redis = settings(security, name);
        redis.put("username", user);
        redis.remove("passwordFile");
        redis.put("password", user + "-pass");
        return redis;
    }

    /** Runs a relay against the shared group; it must exit 1 with no listener ever open. */
    private static String refused(String name, Map<String, Object> redis) throws Exception {
        return refused(name, group, redis);
    }

    private static String refused(String name, SentinelGroup against, Map<String, Object> redis) throws Exception {
        try (RelayProcess relay = RelayProcess.start(tmp.resolve(name), against, redis)) {
            boolean answered = relay.awaitExitWatchingListeners(EXIT_WITHIN);
            String out = relay.output();
            System.out.printf("%s: exit %s%n%s%n", name, relay.process.isAlive() ? "none" : relay.process.exitValue(),
                    out.lines().filter(l -> l.contains("cannot start") || l.startsWith("  ")).toList());
            assertThat(relay.process.isAlive()).as("exited at start: " + out).isFalse();
            assertThat(relay.process.exitValue()).as(out).isEqualTo(1);
            assertThat(answered).as("no listener opened").isFalse();
            assertThat(out).contains("spillway relay: cannot start: the Sentinel group refused the relay:");
            assertThat(out).as("no password in the output").doesNotContain(security.password())
                    .doesNotContain(security.sentinelPassword());
            assertThat(Files.exists(tmp.resolve(name).resolve("spill")))
                    .as("not even the spill log was opened").isFalse();
            return out;
        }
    }

    /** The relay settings {@code security} gives, as a mutable map with a mutable {@code tls}. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> settings(GroupSecurity security, String name) throws Exception {
        Map<String, Object> sink = (Map<String, Object>) security.relaySettings(tmp.resolve(name + "-secrets"))
                .get("sink");
        Map<String, Object> redis = new LinkedHashMap<>((Map<String, Object>) sink.get("redis"));
        redis.put("tls", new LinkedHashMap<>((Map<String, Object>) redis.get("tls")));
        return redis;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> tls(Map<String, Object> redis) {
        return (Map<String, Object>) redis.get("tls");
    }
}
