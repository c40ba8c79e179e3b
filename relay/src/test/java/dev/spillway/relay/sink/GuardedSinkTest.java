package dev.spillway.relay.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.RedisException;
import org.redisson.client.RedisReadonlyException;
import org.redisson.client.RedisResponseTimeoutException;

class GuardedSinkTest {

    private static final List<Message> BATCH = List.of(new Message(1, 0, Message.ListOp.RPUSH,
            "k".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8)));

    @Test
    void opensAfterMinimumFailedCallsThenRefusesAtOnce() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort(); // closed again: nothing listens there
        }
        SinkConfig cfg = SinkConfig.builder().sentinels(List.of("127.0.0.1:" + deadPort))
                .retryWait(Duration.ofMillis(1)).build();
        MetricRegistry metrics = new MetricRegistry();
        try (RedisConnector connector = new RedisConnector(cfg)) {
            WriteGate gate = new WriteGate();
            gate.open("127.0.0.1:" + deadPort, "", 0);
            GuardedSink sink = new GuardedSink(new RedisSink(connector, cfg, metrics), gate, cfg, metrics);
            for (int i = 0; i < cfg.breakerMinCalls(); i++) {
                assertThatThrownBy(() -> sink.write(BATCH, false)).isInstanceOf(RedisConnectionException.class)
                        .hasMessageContaining("no connection to the Sentinel group");
            }
            assertThat(sink.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
            assertThat(sink.permitsCalls()).isFalse();
            assertThatThrownBy(() -> sink.write(BATCH, false)).isInstanceOf(CallNotPermittedException.class);
            assertThat(metrics.meter(MetricRegistry.name(GuardedSink.class, "retries")).getCount())
                    .as("connection errors are retried").isEqualTo(cfg.breakerMinCalls() * (cfg.retryAttempts() - 1L));
        }
    }

    @Test
    void retriesOnlyTransientErrors() {
        var transientError = GuardedSink.isTransient();
        assertThat(transientError.test(new RedisConnectionException("Connection refused"))).isTrue();
        assertThat(transientError.test(new RedisReadonlyException("READONLY You can't write against a read only replica."))).isTrue();
        assertThat(transientError.test(new RedisException("LOADING Redis is loading the dataset in memory"))).isTrue();
        assertThat(transientError.test(new RedisResponseTimeoutException("timeout"))).isFalse();
        assertThat(transientError.test(new ReplicationShortfallException(0, 1))).isFalse();
        assertThat(transientError.test(new RedisException("ERR unknown command"))).isFalse();
    }
}
