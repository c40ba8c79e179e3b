package dev.spillway.relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.relay.sink.RedisTls;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.sink.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sink.redis}'s users, secrets from files and TLS settings, as bound from YAML and the environment. */
class RedisSecurityConfigTest {

    @TempDir
    Path dir;

    @Test
    void secretFilesAreReadWithoutTheirTrailingLineBreak() throws Exception {
        Path redis = secret("redis.pass", "s3cret pass\n");
        Path sentinel = secret("sentinel.pass", "other\r\n");
        SinkConfig s = load("sink:\n  redis:\n    username: spillway\n    passwordFile: " + redis
                + "\n    sentinelUsername: watcher\n    sentinelPasswordFile: " + sentinel + "\n");
        assertThat(s.username()).isEqualTo("spillway");
        assertThat(s.password()).isEqualTo("s3cret pass");
        assertThat(s.sentinelUsername()).isEqualTo("watcher");
        assertThat(s.sentinelPassword()).isEqualTo("other");
        assertThat(ConfigLoader.load(null, Map.of("SPILLWAY_SINK_REDIS_PASSWORD_FILE", redis.toString())).sink()
                .password()).as("by environment too").isEqualTo("s3cret pass");
        assertThat(load("sink:\n  redis:\n    passwordFile: " + secret("inner", "a\nb\n\n")).password())
                .as("only the last line break is stripped").isEqualTo("a\nb\n");
    }

    @Test
    void aSecretGivenBothAsValueAndAsFileIsRefused() throws Exception {
        Path file = secret("redis.pass", "from-file\n");
        assertThatThrownBy(() -> load("sink:\n  redis:\n    password: inline\n    passwordFile: " + file + "\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessage("sink.redis.password and sink.redis.passwordFile: both set (expected: one of them)");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_SINK_REDIS_SENTINEL_PASSWORD", "inline",
                "SPILLWAY_SINK_REDIS_SENTINEL_PASSWORD_FILE", file.toString())))
                .hasMessage("sink.redis.sentinelPassword and sink.redis.sentinelPasswordFile: both set "
                        + "(expected: one of them)");
    }

    @Test
    void anUnreadableOrEmptySecretFileIsRefusedNamingTheFileNotTheSecret() throws Exception {
        Path missing = dir.resolve("nope");
        assertThatThrownBy(() -> load("sink:\n  redis:\n    passwordFile: " + missing + "\n"))
                .hasMessage("sink.redis.passwordFile: " + missing + ": cannot read it (NoSuchFileException)");
        Path empty = secret("empty", "\n");
        assertThatThrownBy(() -> load("sink:\n  redis:\n    sentinelPasswordFile: " + empty + "\n"))
                .hasMessage("sink.redis.sentinelPasswordFile: " + empty + ": empty (expected: the secret)");
    }

    @Test
    void aUserNeedsAPassword() {
        assertThatThrownBy(() -> load("sink:\n  redis:\n    username: spillway\n"))
                .hasMessage("sink.redis.username: spillway (expected: with sink.redis.password or "
                        + "sink.redis.passwordFile: AUTH needs the user's password)");
        assertThatThrownBy(() -> load("sink:\n  redis:\n    sentinelUsername: watcher\n"))
                .hasMessageStartingWith("sink.redis.sentinelUsername: watcher (expected: with "
                        + "sink.redis.sentinelPassword or sink.redis.sentinelPasswordFile");
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of("SPILLWAY_SINK_REDIS_PASSWORD", "")))
                .hasMessage("sink.redis.password: '' (expected: a password, or no setting)");
    }

    @Test
    void tlsIsOffByDefaultAndItsFilesNeedItOn() throws Exception {
        assertThat(ConfigLoader.load(null, Map.of()).sink().tls()).isNull();
        assertThat(load("sink:\n  redis:\n    tls:\n      enabled: false\n").tls()).isNull();
        assertThatThrownBy(() -> load("sink:\n  redis:\n    tls:\n      caFile: /etc/ca.pem\n"))
                .hasMessage("sink.redis.tls.caFile: /etc/ca.pem (expected: only with sink.redis.tls.enabled: true)");
    }

    @Test
    void tlsReadsThePemFilesAndVerifiesHostnamesByDefault() throws Exception {
        TestPki pki = TestPki.make(dir.resolve("pki"));
        RedisTls tls = load("sink:\n  redis:\n    tls:\n      enabled: true\n      caFile: " + pki.caFile()
                + "\n      certFile: " + pki.certFile() + "\n      keyFile: " + pki.keyFile() + "\n").tls();
        assertThat(tls.verifyHostname()).isTrue();
        assertThat(tls.caFile()).isEqualTo(pki.caFile());
        assertThat(tls.trustManagerFactory().getTrustManagers()).isNotEmpty();
        assertThat(tls.keyManagerFactory().getKeyManagers()).isNotEmpty();
        assertThat(tls.toString()).contains(pki.caFile().toString(), "hostname verification on");

        RedisTls jvmTrust = ConfigLoader.load(null, Map.of("SPILLWAY_SINK_REDIS_TLS_ENABLED", "true",
                "SPILLWAY_SINK_REDIS_TLS_VERIFY_HOSTNAME", "false")).sink().tls();
        assertThat(jvmTrust.trustManagerFactory()).as("none: the JVM's default trust store").isNull();
        assertThat(jvmTrust.keyManagerFactory()).isNull();
        assertThat(jvmTrust.verifyHostname()).isFalse();
    }

    @Test
    void badTlsFilesAreRefusedNamingTheSetting() throws Exception {
        TestPki pki = TestPki.make(dir.resolve("pki"));
        String on = "sink:\n  redis:\n    tls:\n      enabled: true\n";
        assertThatThrownBy(() -> load(on + "      certFile: " + pki.certFile() + "\n"))
                .hasMessage("sink.redis.tls.certFile: " + pki.certFile()
                        + " without keyFile (expected: both or neither)");
        Path notPem = secret("not.pem", "hello\n");
        assertThatThrownBy(() -> load(on + "      caFile: " + notPem + "\n"))
                .hasMessageStartingWith("sink.redis.tls.caFile: " + notPem + ": ");
        assertThatThrownBy(() -> load(on + "      caFile: " + dir.resolve("absent.pem") + "\n"))
                .hasMessageStartingWith("sink.redis.tls.caFile: " + dir.resolve("absent.pem") + ": cannot read it");
        assertThatThrownBy(() -> load(on + "      certFile: " + pki.certFile() + "\n      keyFile: " + pki.certFile()
                + "\n")).hasMessageStartingWith("sink.redis.tls.keyFile: " + pki.certFile()
                        + ": no unencrypted PKCS#8 key in it");
        assertThatThrownBy(() -> load(on + "      certFile: " + pki.certFile() + "\n      keyFile: "
                + TestPki.make(dir.resolve("other")).keyFile() + "\n"))
                .as("a key that is not the certificate's").isInstanceOf(ConfigException.class)
                .hasMessageContaining("sink.redis.tls.certFile / sink.redis.tls.keyFile")
                .hasMessageContaining("the key is not the certificate's");
    }

    private SinkConfig load(String yaml) throws Exception {
        Path f = dir.resolve("relay.yaml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f, Map.of()).sink();
    }

    private Path secret(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content);
    }
}
