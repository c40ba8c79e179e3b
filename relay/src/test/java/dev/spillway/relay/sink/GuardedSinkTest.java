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
import dev.spillway.relay.net.Transport;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.TimeUnit;

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
        EventLoopGroup group = Transport.get().newGroup(1);
        try (RedisSink redis = new RedisSink(group, cfg, metrics, "test")) {
            WriteGate gate = new WriteGate();
            gate.open("127.0.0.1:" + deadPort, "0123", 0);
            GuardedSink sink = new GuardedSink(redis, gate, cfg, metrics);
            for (int i = 0; i < cfg.breakerMinCalls(); i++) {
                assertThatThrownBy(() -> sink.write(BATCH, false)).isInstanceOf(RedisLinkException.class)
                        .hasMessageContaining("cannot connect to the master 127.0.0.1:" + deadPort);
            }
            assertThat(sink.breaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);
            assertThat(sink.permitsCalls()).isFalse();
            assertThatThrownBy(() -> sink.write(BATCH, false)).isInstanceOf(CallNotPermittedException.class);
            assertThat(metrics.meter(MetricRegistry.name(GuardedSink.class, "retries")).getCount())
                    .as("connection errors are retried").isEqualTo(cfg.breakerMinCalls() * (cfg.retryAttempts() - 1L));
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Test
    void retriesOnlyTransientErrors() {
        var transientError = GuardedSink.isTransient();
        assertThat(transientError.test(new RedisLinkException("cannot connect: Connection refused", null))).isTrue();
        assertThat(transientError.test(new RedisErrorReply("READONLY You can't write against a read only replica."))).isTrue();
        assertThat(transientError.test(new RedisErrorReply("LOADING Redis is loading the dataset in memory"))).isTrue();
        assertThat(transientError.test(new RedisErrorReply("MASTERDOWN Link with MASTER is down"))).isTrue();
        assertThat(transientError.test(new RedisErrorReply("SPILLWAY-FENCE the node at 127.0.0.1:6379 has run id x"))).isTrue();
        assertThat(transientError.test(new java.util.concurrent.CompletionException(
                new RedisErrorReply("TRYAGAIN Multiple keys request during rehashing of slot")))).isTrue();
        assertThat(transientError.test(new RedisReplyTimeoutException("no answer"))).isFalse();
        assertThat(transientError.test(new ReplicationShortfallException(0, 1))).isFalse();
        assertThat(transientError.test(new RedisErrorReply("ERR unknown command"))).isFalse();
        assertThat(transientError.test(new RedisErrorReply("OOM command not allowed when used memory > 'maxmemory'.")))
                .isFalse();
    }

    @Test
    void aClosedGateSendsNothingAndTheBreakerDoesNotCountIt() {
        SinkConfig cfg = SinkConfig.builder().build();
        WriteGate gate = new WriteGate();
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        GuardedSink sink = new GuardedSink((b, g, r) -> {
            sent.incrementAndGet();
            return java.util.concurrent.CompletableFuture.completedFuture(new WriteResult(b.size(), 0));
        }, gate, cfg, new MetricRegistry());
        for (int i = 0; i < 10; i++) {
            assertThatThrownBy(() -> sink.write(BATCH, false)).isInstanceOf(WriteGateException.class)
                    .hasMessageContaining("write gate closed").matches(e -> !((WriteGateException) e).sent());
        }
        assertThat(sent).hasValue(0);
        assertThat(sink.permitsCalls()).isFalse();
        assertThat(sink.breaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        gate.open("127.0.0.1:6379", "abc", 2);
        assertThat(sink.write(BATCH, false)).isEqualTo(new WriteResult(1, 0));
        assertThat(sent).hasValue(1);
    }

    @Test
    void aWriteAnsweredAfterTheGateMovedHasAnUnknownOutcome() {
        SinkConfig cfg = SinkConfig.builder().build();
        WriteGate gate = new WriteGate();
        gate.open("127.0.0.1:6379", "abc", 2);
        java.util.concurrent.CompletableFuture<WriteResult> reply = new java.util.concurrent.CompletableFuture<>();
        java.util.List<WriteGate.State> seen = new java.util.ArrayList<>();
        GuardedSink sink = new GuardedSink((b, g, r) -> {
            seen.add(g);
            return reply;
        }, gate, cfg, new MetricRegistry());
        var written = sink.writeAsync(BATCH, false).toCompletableFuture();
        assertThat(seen).extracting(WriteGate.State::runId).containsExactly("abc");
        gate.close("Sentinel 127.0.0.1:26379: +sdown master mymaster 127.0.0.1 6379");
        gate.open("127.0.0.1:6379", "abc", 2); // the same master again: still a new epoch
        reply.complete(new WriteResult(1, 0)); // the master and WAIT said yes
        assertThatThrownBy(written::join).hasCauseInstanceOf(WriteGateException.class)
                .hasMessageContaining("outcome unknown");
        assertThat(sink.breaker().getMetrics().getNumberOfFailedCalls()).isZero();
    }

    @Test
    void aRetryIsNotSentOnceTheGateMoved() {
        SinkConfig cfg = SinkConfig.builder().retryAttempts(3).retryWait(Duration.ofMillis(1)).build();
        WriteGate gate = new WriteGate();
        gate.open("127.0.0.1:6379", "abc", 2);
        java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
        GuardedSink sink = new GuardedSink((b, g, r) -> {
            sent.incrementAndGet();
            gate.close("+odown master mymaster 127.0.0.1 6379 #quorum 2/2");
            gate.open("127.0.0.1:6380", "def", 2);
            return java.util.concurrent.CompletableFuture.failedFuture(new RedisLinkException("Connection refused", null));
        }, gate, cfg, new MetricRegistry());
        assertThatThrownBy(() -> sink.write(BATCH, false)).isInstanceOf(WriteGateException.class);
        assertThat(sent).as("the retry would go to a master the gate no longer stands behind").hasValue(1);
    }

    @Test
    void theGateOpeningHalfOpensAnOpenBreaker() {
        SinkConfig cfg = SinkConfig.builder().build();
        WriteGate gate = new WriteGate();
        GuardedSink sink = new GuardedSink((b, g, r) -> java.util.concurrent.CompletableFuture.completedFuture(
                new WriteResult(b.size(), 0)), gate, cfg, new MetricRegistry());
        sink.breaker().transitionToOpenState();
        gate.open("127.0.0.1:6380", "def", 1);
        assertThat(sink.breaker().getState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
    }
}
