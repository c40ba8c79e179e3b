package dev.spillway.relay.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.redisson.config.Config;
import org.redisson.config.SentinelServersConfig;
import org.redisson.config.SslVerificationMode;

/** What the relay's settings make of Redisson's: users, passwords, TLS. */
class RedisConnectorConfigTest {

    @TempDir
    Path dir;

    @Test
    void plainByDefault() {
        Config c = RedisConnector.redissonConfig(SinkConfig.builder().build(), null);
        SentinelServersConfig s = c.useSentinelServers();
        assertThat(s.getSentinelAddresses()).allMatch(a -> a.startsWith("redis://"));
        assertThat(c.getUsername()).isNull();
        assertThat(c.getPassword()).isNull();
        assertThat(s.getSentinelUsername()).isNull();
    }

    @Test
    void tlsAndUsersReachRedissonForNodesAndSentinels() throws Exception {
        TestPki pki = TestPki.make(dir);
        SinkConfig sink = SinkConfig.builder().sentinels(List.of("127.0.0.1:1", "127.0.0.1:2"))
                .username("spillway").password("p1").sentinelUsername("watcher").sentinelPassword("p2")
                .tls(RedisTls.of(pki.caFile(), pki.certFile(), pki.keyFile(), true)).build();
        Config c = RedisConnector.redissonConfig(sink, null);
        SentinelServersConfig s = c.useSentinelServers();
        assertThat(s.getSentinelAddresses()).containsExactly("rediss://127.0.0.1:1", "rediss://127.0.0.1:2");
        assertThat(List.of(c.getUsername(), c.getPassword(), s.getSentinelUsername(), s.getSentinelPassword()))
                .containsExactly("spillway", "p1", "watcher", "p2");
        assertThat(c.getSslVerificationMode()).isEqualTo(SslVerificationMode.STRICT);
        assertThat(c.getSslTrustManagerFactory()).isSameAs(sink.tls().trustManagerFactory());
        assertThat(c.getSslKeyManagerFactory()).isSameAs(sink.tls().keyManagerFactory());

        SinkConfig noHostCheck = SinkConfig.builder().tls(RedisTls.of(null, null, null, false)).build();
        Config n = RedisConnector.redissonConfig(noHostCheck, null);
        assertThat(n.getSslVerificationMode()).isEqualTo(SslVerificationMode.CA_ONLY);
        assertThat(n.getSslTrustManagerFactory()).as("the JVM's default trust").isNull();
    }
}
