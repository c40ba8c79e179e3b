package dev.spillway.relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecurityConfigTest {

    @TempDir
    Path dir;

    private Path write(String yaml) throws Exception {
        return Files.writeString(Files.createTempFile(dir, "relay", ".yaml"), yaml);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b(s)));
    }

    @Test
    void readsSecretsFromFilesWithoutTheirTrailingNewline() throws Exception {
        Path pw = Files.writeString(dir.resolve("pw"), "from-file\n");
        Path token = Files.writeString(dir.resolve("token"), "tok\r\n");
        Path admin = Files.writeString(dir.resolve("admin"), "#" + sha256("adm1n") + "\n");
        RelayConfig c = ConfigLoader.load(null, Map.of("SPILLWAY_SECURITY_PASSWORD_FILE", pw.toString(),
                "SPILLWAY_SECURITY_HTTP_TOKEN_FILE", token.toString(),
                "SPILLWAY_SECURITY_ADMIN_TOKEN_FILE", admin.toString()));
        assertThat(c.security().users().authenticate("default", b("from-file"))).isNotNull();
        assertThat(c.security().users().authenticate("default", b("from-file\n"))).isNull();
        assertThat(c.security().users().byToken("tok")).isNotNull();
        assertThat(c.security().adminToken().matches(b("adm1n"))).isTrue();
    }

    @Test
    void refusesAValueAndAFileForTheSameSecretAndUnusableFiles() throws Exception {
        Path pw = Files.writeString(dir.resolve("pw"), "x\n");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_SECURITY_PASSWORD", "y",
                "SPILLWAY_SECURITY_PASSWORD_FILE", pw.toString())))
                .hasMessage("security.password and security.passwordFile are both set (expected: one of them)");
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_SECURITY_ADMIN_TOKEN_FILE", empty.toString())))
                .hasMessageContaining("security.adminTokenFile: " + empty + " is empty");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_SECURITY_HTTP_TOKEN_FILE",
                dir.resolve("missing").toString()))).hasMessageStartingWith("security.httpTokenFile: cannot read");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_SECURITY_PASSWORD", "#12ab")))
                .hasMessageStartingWith("security.password: a value starting with '#' must be");
    }

    @Test
    void bindsUsersFromTheFileWithHashedPasswordsTokensAndPatterns() throws Exception {
        Path f = write("""
                listeners:
                  line:
                    user: lines
                security:
                  users:
                    - name: orders
                      password: "#%s"
                      tokens: ["t-orders"]
                      keys: ["orders:*", "audit"]
                    - name: lines
                      keys: [data_queue]
                """.formatted(sha256("o-pass")));
        RelayConfig c = ConfigLoader.load(f, Map.of());
        var users = c.security().users();
        assertThat(users.respAuthRequired()).isTrue();
        assertThat(users.authenticate("orders", b("o-pass")).allows(b("orders:7"))).isTrue();
        assertThat(users.byToken("t-orders").allows(b("payments:1"))).isFalse();
        assertThat(c.security().lineUser().name()).isEqualTo("lines");
        assertThat(c.toString()).doesNotContain("o-pass", sha256("o-pass"), "t-orders");
    }

    @Test
    void takesTheUsersFromOneVariableAsAYamlList() {
        RelayConfig c = ConfigLoader.load(null, Map.of("SPILLWAY_SECURITY_USERS",
                "[{name: orders, password: p1, keys: ['orders:*']}, {name: all, tokens: [t2], keys: ['*']}]",
                "SPILLWAY_LISTENERS_LINE_ENABLED", "false"));
        assertThat(c.security().users().authenticate("orders", b("p1"))).isNotNull();
        assertThat(c.security().users().byToken("t2").name()).isEqualTo("all");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_SECURITY_USERS", "orders:p1")))
                .hasMessageStartingWith("environment variable SPILLWAY_SECURITY_USERS: not a YAML list")
                .hasMessageNotContaining("p1");
    }

    @Test
    void refusesUsersWithoutKeysAndAnUnquotedHash() throws Exception {
        assertThatThrownBy(() -> ConfigLoader.load(write("security:\n  users: orders\n"), Map.of()))
                .hasMessage("security.users: (expected: a list of mappings)");
        assertThatThrownBy(() -> ConfigLoader.load(write("security:\n  users:\n    - name: x\n      pasword: p\n"),
                Map.of())).hasMessageStartingWith("security.users[0].pasword: unknown setting");
        assertThatThrownBy(() -> ConfigLoader.load(write("security:\n  users:\n    - name: x\n      password: p\n"),
                Map.of())).hasMessageStartingWith("security.users[0].keys: none");
        assertThatThrownBy(() -> ConfigLoader.load(write("security:\n  password: #" + sha256("p") + "\n"), Map.of()))
                .hasMessageContaining("line 2: a '#<sha256>' secret must be quoted");
        assertThatThrownBy(() -> ConfigLoader.load(write("security:\n  users:\n    - name: x\n      tokens:\n"
                + "        - #" + sha256("t") + "\n      keys: ['*']\n"), Map.of()))
                .hasMessageContaining("line 5: a '#<sha256>' secret must be quoted");
    }

    @Test
    void theLineListenerNeedsAUserWhoseKeysAllowItsKeyOnceUsersAreSet() throws Exception {
        String users = "security:\n  users:\n    - name: orders\n      password: p\n      keys: ['orders:*']\n";
        assertThatThrownBy(() -> ConfigLoader.load(write(users), Map.of()))
                .hasMessageStartingWith("listeners.line.user: none, while security.users is set");
        assertThatThrownBy(() -> ConfigLoader.load(write(users), Map.of("SPILLWAY_LISTENERS_LINE_USER", "nobody")))
                .hasMessage("listeners.line.user: 'nobody' (expected: one of the users [orders])");
        assertThatThrownBy(() -> ConfigLoader.load(write(users), Map.of("SPILLWAY_LISTENERS_LINE_USER", "orders")))
                .hasMessage("listeners.line.user: 'orders' may not push to listeners.line.key 'data_queue' "
                        + "(its keys: [orders:*])");
        RelayConfig c = ConfigLoader.load(write(users), Map.of("SPILLWAY_LISTENERS_LINE_USER", "orders",
                "SPILLWAY_LISTENERS_LINE_KEY", "orders:lines"));
        assertThat(c.security().lineUser().name()).isEqualTo("orders");
        assertThat(ConfigLoader.load(write(users), Map.of("SPILLWAY_LISTENERS_LINE_ENABLED", "false"))
                .security().lineUser()).isNull();
    }

    @Test
    void aTlsListenerNeedsTheCertificateAndKey() {
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_LISTENERS_RESP_TLS", "true")))
                .hasMessage("listeners.resp.tls: true (expected: security.tls.certFile and security.tls.keyFile set, "
                        + "or tls: false)");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_SECURITY_TLS_CERT_FILE", "/c.pem")))
                .hasMessageContaining("certFile and keyFile go together");
        RelayConfig c = ConfigLoader.load(null, Map.of("SPILLWAY_LISTENERS_HTTP_TLS", "true",
                "SPILLWAY_SECURITY_TLS_CERT_FILE", "/c.pem", "SPILLWAY_SECURITY_TLS_KEY_FILE", "/k.pem"));
        assertThat(c.http().tls()).isTrue();
        assertThat(c.resp().tls()).isFalse();
        assertThat(c.security().tls().clientCertificatesRequired()).isFalse();
    }

    @Test
    void anAdminListenerBeyondLoopbackNeedsATokenOrAnExplicitWaiver() {
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_LISTENERS_ADMIN_HOST", "0.0.0.0")))
                .hasMessageStartingWith("listeners.admin.host: 0.0.0.0 is reachable from other hosts")
                .hasMessageContaining("security.adminToken").hasMessageContaining("allowAdminWithoutToken");
        assertThat(ConfigLoader.load(null, Map.of("SPILLWAY_LISTENERS_ADMIN_HOST", "0.0.0.0",
                "SPILLWAY_SECURITY_ADMIN_TOKEN", "a")).admin().host()).isEqualTo("0.0.0.0");
        assertThat(ConfigLoader.load(null, Map.of("SPILLWAY_LISTENERS_ADMIN_HOST", "10.1.2.3",
                "SPILLWAY_SECURITY_ALLOW_ADMIN_WITHOUT_TOKEN", "true")).admin().host()).isEqualTo("10.1.2.3");
        for (String loopback : new String[] {"127.0.0.1", "127.0.0.2", "localhost", "::1"}) {
            assertThat(ConfigLoader.load(null, Map.of("SPILLWAY_LISTENERS_ADMIN_HOST", loopback)).admin().host())
                    .isEqualTo(loopback);
        }
    }
}
