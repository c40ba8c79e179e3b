package dev.spillway.relay.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class IngressUsersTest {

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String hashOf(String secret) {
        return "#" + HexFormat.of().formatHex(Secret.sha256(b(secret)));
    }

    private static IngressUser user(String name, String password, List<String> tokens, String... keys) {
        return new IngressUser(name, password == null ? List.of() : List.of(Secret.parse(password)),
                tokens.stream().map(Secret::parse).toList(), List.of(keys).stream().map(KeyPattern::compile).toList());
    }

    @Test
    void aSecretMatchesWhetherGivenPlainOrAsItsSha256() {
        assertThat(Secret.parse("s3cret").matches(b("s3cret"))).isTrue();
        assertThat(Secret.parse("s3cret").matches(b("s3cret "))).isFalse();
        assertThat(Secret.parse(hashOf("s3cret")).matches(b("s3cret"))).isTrue();
        assertThat(Secret.parse(hashOf("s3cret").toUpperCase().replace("#", "#")).matches(b("s3cret"))).isTrue();
        // the SHA-256 of "hello", as `printf %s hello | sha256sum` prints it
        assertThat(Secret.parse("#2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
                .matches(b("hello"))).isTrue();
        assertThat(Secret.parse("s3cret").toString()).doesNotContain("s3cret").isEqualTo("(secret)");
    }

    @Test
    void aHashMustBeSixtyFourHexDigits() {
        assertThatThrownBy(() -> Secret.parse("#abc")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("64 hex digits");
        assertThatThrownBy(() -> Secret.parse("#" + "g".repeat(64))).hasMessageContaining("64 hex digits");
        assertThatThrownBy(() -> Secret.parse("")).hasMessageContaining("expected: a secret");
    }

    @Test
    void authenticatesByNameAndPasswordAndHoldsEachUserToItsKeys() {
        IngressUsers users = IngressUsers.of(List.of(user("orders", hashOf("o-pass"), List.of(), "orders:*"),
                user("metrics", "m-pass", List.of("m-token"), "metrics:[a-z]*", "audit")), null, null);
        assertThat(users.respAuthRequired()).isTrue();
        assertThat(users.httpAuthRequired()).isTrue();
        IngressUser orders = users.authenticate("orders", b("o-pass"));
        assertThat(orders).isNotNull();
        assertThat(orders.allows(b("orders:1"))).isTrue();
        assertThat(orders.allows(b("metrics:a"))).isFalse();
        assertThat(users.authenticate("orders", b("m-pass"))).as("another user's password").isNull();
        assertThat(users.authenticate("nobody", b("o-pass"))).isNull();
        assertThat(users.authenticate("default", b("o-pass"))).as("no default user configured").isNull();
        assertThat(users.byToken("m-token").name()).isEqualTo("metrics");
        assertThat(users.byToken("o-pass")).as("a password is not a token").isNull();
        assertThat(users.byToken("m-token").allows(b("audit"))).isTrue();
        assertThat(users.byToken("m-token").allows(b("metrics:1"))).isFalse();
        assertThat(users.toString()).contains("orders", "orders:*").doesNotContain("pass", "token", "#");
    }

    @Test
    void theLegacyPasswordAndTokenAreTheDefaultUsersWithEveryKey() {
        IngressUsers users = IngressUsers.of(List.of(), Secret.parse("pw"), null);
        assertThat(users.respAuthRequired()).isTrue();
        assertThat(users.httpAuthRequired()).as("no token configured: HTTP stays open").isFalse();
        assertThat(users.hasUsers()).isFalse();
        assertThat(users.authenticate("default", b("pw")).allows(b("any:key"))).isTrue();
        IngressUsers open = IngressUsers.open();
        assertThat(open.respAuthRequired()).isFalse();
        assertThat(open.httpAuthRequired()).isFalse();
        assertThat(open.anonymous().allows(b("x"))).isTrue();
    }

    @Test
    void refusesDuplicateNamesAndADefaultUserGivenTwice() {
        assertThatThrownBy(() -> IngressUsers.of(List.of(user("a", "p", List.of(), "*"), user("a", "q", List.of(), "*")),
                null, null)).hasMessageContaining("'a' is listed twice");
        assertThatThrownBy(() -> IngressUsers.of(List.of(user("default", "p", List.of(), "*")), Secret.parse("pw"), null))
                .hasMessageContaining("'default' is listed while security.password");
    }
}
