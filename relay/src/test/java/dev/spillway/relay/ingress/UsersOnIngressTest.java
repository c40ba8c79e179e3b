package dev.spillway.relay.ingress;

import static dev.spillway.relay.ingress.ChannelSupport.output;
import static dev.spillway.relay.ingress.ChannelSupport.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.http.HttpIngestInitializer;
import dev.spillway.relay.ingress.resp.RespInitializer;
import dev.spillway.relay.security.IngressUser;
import dev.spillway.relay.security.IngressUsers;
import dev.spillway.relay.security.KeyPattern;
import dev.spillway.relay.security.Secret;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Users with key patterns on the RESP and HTTP listeners: who may push where, refused before routing. */
class UsersOnIngressTest {

    private static final String NOPERM = "-NOPERM No permissions to access a key\r\n";
    private static final String WRONGPASS = "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

    private final FakeIntake intake = new FakeIntake();
    private final Limits limits = ChannelSupport.limits(1024, 100);
    private final IngressUsers users = IngressUsers.of(List.of(
            new IngressUser("orders", List.of(Secret.parse("o-pass")), List.of(Secret.parse("o-token")),
                    List.of(KeyPattern.compile("orders:*"))),
            new IngressUser("ops", List.of(Secret.parse("ops-pass")), List.of(), List.of(KeyPattern.compile("*")))),
            null, null);

    private EmbeddedChannel resp(IngressUsers users) {
        return new EmbeddedChannel(new RespInitializer(new ListenerContext(intake, limits, ChannelSupport.inFlight(limits),
                ChannelSupport.metrics(), ChannelSupport.limiter(new ErrorRedisMessage("ERR too many"))), users,
                () -> ChannelSupport.STATUS));
    }

    private EmbeddedChannel http(IngressUsers users) {
        return new EmbeddedChannel(new HttpIngestInitializer(new ListenerContext(intake, limits,
                ChannelSupport.inFlight(limits), ChannelSupport.metrics(), ChannelSupport.limiter(null)), users));
    }

    private static String cmd(String... parts) {
        StringBuilder b = new StringBuilder("*").append(parts.length).append("\r\n");
        for (String p : parts) {
            b.append('$').append(p.length()).append("\r\n").append(p).append("\r\n");
        }
        return b.toString();
    }

    private static String post(String key, String authorization, String body) {
        return "POST /v1/lists/" + key + " HTTP/1.1\r\nHost: x\r\n"
                + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }

    @Test
    void anUnauthenticatedPushIsRefusedWithNoauthAndNothingIsRouted() {
        EmbeddedChannel ch = resp(users);
        write(ch, cmd("RPUSH", "orders:1", "a") + cmd("LPUSH", "orders:1", "b") + cmd("PING"));
        assertThat(output(ch)).isEqualTo("-NOAUTH Authentication required.\r\n".repeat(3));
        assertThat(intake.submissions).isEmpty();
    }

    @Test
    void aWrongPasswordOrUnknownUserGetsWrongpassAndLeavesTheConnectionAsItWas() {
        EmbeddedChannel ch = resp(users);
        write(ch, cmd("AUTH", "orders", "o-pas") + cmd("AUTH", "nobody", "o-pass") + cmd("AUTH", "o-pass")
                + cmd("AUTH", "orders", "ops-pass") + cmd("RPUSH", "orders:1", "a"));
        assertThat(output(ch)).isEqualTo(WRONGPASS.repeat(4) + "-NOAUTH Authentication required.\r\n");
        write(ch, cmd("AUTH", "orders", "o-pass") + cmd("AUTH", "orders", "wrong") + cmd("RPUSH", "orders:1", "a"));
        intake.ackAll();
        assertThat(output(ch)).as("a failed AUTH keeps the user already authenticated")
                .isEqualTo("+OK\r\n" + WRONGPASS + ":1\r\n");
    }

    @Test
    void aPushOutsideTheUsersPatternsGetsNopermAndIsNeverRouted() {
        EmbeddedChannel ch = resp(users);
        write(ch, cmd("AUTH", "orders", "o-pass") + cmd("RPUSH", "payments:1", "a", "b") + cmd("RPUSH", "orders:eu", "c")
                + cmd("LPUSH", "orders", "d"));
        assertThat(intake.submissions).hasSize(1);
        assertThat(intake.submissions.get(0).key()).isEqualTo("orders:eu");
        intake.ackAll();
        assertThat(output(ch)).isEqualTo("+OK\r\n" + NOPERM + ":1\r\n" + NOPERM);
        assertThat(ch.isActive()).as("the connection carries on").isTrue();
    }

    @Test
    void helloAuthenticatesAsTheNamedUser() {
        EmbeddedChannel ch = resp(users);
        write(ch, cmd("HELLO", "2", "AUTH", "ops", "wrong") + cmd("HELLO", "2", "AUTH", "ops", "ops-pass")
                + cmd("RPUSH", "anything", "v"));
        intake.ackAll();
        String out = output(ch);
        assertThat(out).startsWith(WRONGPASS + "*14\r\n").endsWith(":1\r\n");
        assertThat(intake.submissions.get(0).key()).isEqualTo("anything");
    }

    @Test
    void helloWithABadOptionAuthenticatesNobody() {
        EmbeddedChannel ch = resp(users);
        write(ch, cmd("HELLO", "2", "AUTH", "ops", "ops-pass", "BOGUS") + cmd("RPUSH", "anything", "v"));
        intake.ackAll();
        assertThat(output(ch)).startsWith("-ERR Syntax error in HELLO option 'BOGUS'\r\n-NOAUTH");
        assertThat(intake.submissions).isEmpty();
    }

    @Test
    void theLegacyPasswordIsTheDefaultUserWithEveryKey() {
        EmbeddedChannel ch = resp(ChannelSupport.password("pw"));
        write(ch, cmd("AUTH", "default", "pw") + cmd("RPUSH", "any:key", "v"));
        intake.ackAll();
        assertThat(output(ch)).isEqualTo("+OK\r\n:1\r\n");
    }

    @Test
    void httpMapsTheBearerTokenToItsUser() {
        EmbeddedChannel ch = http(users);
        write(ch, post("orders:1", null, "a"));
        assertThat(output(ch)).startsWith("HTTP/1.1 401 Unauthorized").containsIgnoringCase("WWW-Authenticate: Bearer");
        write(ch, post("orders:1", "Bearer o-pass", "a"));
        assertThat(output(ch)).as("a password is not a token").startsWith("HTTP/1.1 401 Unauthorized");
        write(ch, post("payments:1", "Bearer o-token", "a"));
        assertThat(output(ch)).startsWith("HTTP/1.1 403 Forbidden").contains("NOPERM").contains("orders");
        assertThat(intake.submissions).isEmpty();
        intake.autoAck = true;
        write(ch, post("orders:1", "bearer o-token", "a"));
        assertThat(output(ch)).startsWith("HTTP/1.1 200 OK").endsWith("{\"accepted\":1}");
        assertThat(intake.submissions).hasSize(1);
    }

    @Test
    void withUsersListedHttpNeedsATokenEvenIfNoUserHasOne() {
        IngressUsers respOnly = IngressUsers.of(List.of(new IngressUser("r", List.of(Secret.parse("p")), List.of(),
                List.of(KeyPattern.compile("*")))), null, null);
        EmbeddedChannel ch = http(respOnly);
        write(ch, post("q", null, "a"));
        assertThat(output(ch)).startsWith("HTTP/1.1 401 Unauthorized");
        assertThat(intake.submissions).isEmpty();
    }
}
