package dev.spillway.relay.sink;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import dev.spillway.relay.metrics.RelayEvents;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import java.io.Closeable;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis sink behind a resilience4j circuit breaker, with a retry inside it for transient
 * errors only.
 *
 * <ul>
 * <li>Breaker: time-based window ({@code sink.breaker.window}), opens at
 *     {@code sink.breaker.failureRate}% failures or slow calls once
 *     {@code sink.breaker.minCalls} calls were seen; a call slower than the Redis timeout (plus
 *     WAIT) counts as slow, so a frozen master opens it even before its timeouts pile up.
 *     Open, it refuses calls at once ({@link CallNotPermittedException}); after
 *     {@code sink.breaker.openWait} it lets trial calls through, and gives up on a half-open
 *     state that sees no calls after {@code sink.breaker.maxHalfOpen}.</li>
 * <li>Retry: {@code sink.retry.attempts} tries, {@code sink.retry.wait} apart, for errors
 *     that a moment fixes ({@link RedisLinkException}: connection lost or refused; and the
 *     replies {@link RedisErrorReply#isTransient()} names: READONLY from a demoted master,
 *     LOADING, MASTERDOWN, TRYAGAIN, the fence). Never for timeouts or WAIT shortfalls (they
 *     already waited) and never for {@code CallNotPermittedException} (the retry runs inside the
 *     breaker, so it cannot see one).</li>
 * </ul>
 *
 * <p>Outside both, the {@link WriteGate}: a batch is sent only while the gate is open, each retry
 * only while it is still open on the same epoch, and a reply counts only if the epoch did not
 * change meanwhile ({@link WriteGateException} otherwise, which the breaker ignores). When the
 * gate opens on a (new) master, an open breaker goes half-open at once, so the spill replays as
 * soon as the Sentinels agree rather than on the breaker's timer.
 *
 * <p>Thread-safe.
 */
public final class GuardedSink implements Sink, Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(GuardedSink.class);

    /** What sends a batch to Redis: {@link RedisSink}, or a fake in tests. */
    interface Writer {
        CompletionStage<WriteResult> writeAsync(List<Message> batch, WriteGate.State gate, boolean replay);
    }

    private final Writer sink;
    private final WriteGate gate;
    private final CircuitBreaker breaker;
    private final Retry retry;
    private final Meter retries;
    private final ScheduledExecutorService retryTimer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "redis-retry-timer");
        t.setDaemon(true);
        return t;
    });

    public GuardedSink(RedisSink sink, WriteGate gate, SinkConfig config, MetricRegistry metrics) {
        this(sink::writeAsync, gate, config, metrics);
    }

    GuardedSink(Writer sink, WriteGate gate, SinkConfig config, MetricRegistry metrics) {
        this.sink = sink;
        this.gate = gate;
        this.breaker = CircuitBreaker.of("redis", CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.TIME_BASED)
                .slidingWindowSize((int) config.breakerWindow().toSeconds())
                .minimumNumberOfCalls(config.breakerMinCalls())
                .failureRateThreshold(config.breakerFailureRate())
                .slowCallDurationThreshold(config.slowCallThreshold())
                .slowCallRateThreshold(config.breakerFailureRate())
                .waitDurationInOpenState(config.breakerOpenWait())
                .permittedNumberOfCallsInHalfOpenState(1)
                .maxWaitDurationInHalfOpenState(config.breakerMaxHalfOpen())
                .automaticTransitionFromOpenToHalfOpenEnabled(true)
                .ignoreExceptions(WriteGateException.class)
                .build());
        this.retry = Retry.of("redis", RetryConfig.custom()
                .maxAttempts(config.retryAttempts())
                .waitDuration(config.retryWait())
                .retryOnException(isTransient())
                .failAfterMaxAttempts(false)
                .build());
        this.retries = metrics.meter(MetricRegistry.name(GuardedSink.class, "retries"));
        gate.addListener(state -> {
            if (state.open() && breaker.getState() == CircuitBreaker.State.OPEN) {
                try {
                    breaker.transitionToHalfOpenState();
                } catch (IllegalStateException raced) {
                    // the breaker moved on by itself
                }
            }
        });
        retry.getEventPublisher().onRetry(e -> retries.mark());
        breaker.getEventPublisher().onStateTransition(e -> RelayEvents.warn("breaker",
                "Redis circuit breaker " + e.getStateTransition(), "from", e.getStateTransition().getFromState(),
                "to", e.getStateTransition().getToState()));
        metrics.register(MetricRegistry.name(GuardedSink.class, "breaker", "state"),
                (Gauge<String>) () -> breaker.getState().name());
        // numeric twin for Prometheus/Graphite: 0 closed, 1 open, 2 half-open, 3 other
        metrics.register(MetricRegistry.name(GuardedSink.class, "breaker", "state-code"), (Gauge<Integer>) () ->
                switch (breaker.getState()) {
                    case CLOSED -> 0;
                    case OPEN, FORCED_OPEN -> 1;
                    case HALF_OPEN -> 2;
                    default -> 3;
                });
        metrics.register(MetricRegistry.name(GuardedSink.class, "breaker", "failure-rate"),
                (Gauge<Float>) () -> breaker.getMetrics().getFailureRate());
        metrics.register(MetricRegistry.name(GuardedSink.class, "breaker", "slow-call-rate"),
                (Gauge<Float>) () -> breaker.getMetrics().getSlowCallRate());
        metrics.register(MetricRegistry.name(GuardedSink.class, "breaker", "not-permitted"),
                (Gauge<Long>) () -> breaker.getMetrics().getNumberOfNotPermittedCalls());
    }

    /**
     * Writes the batch through gate, breaker and retry, and waits for the outcome.
     *
     * @throws CallNotPermittedException when the breaker is open (nothing was sent)
     * @throws WriteGateException when the gate was closed (nothing sent) or changed (outcome unknown)
     * @throws RuntimeException when the outcome is unknown (the batch may have landed)
     */
    public WriteResult write(List<Message> batch, boolean replay) {
        return Stages.join(writeAsync(batch, replay));
    }

    /**
     * Writes the batch through gate, breaker and retry without waiting; see {@link Sink#writeAsync}.
     * It completes on the master connection's event loop or the retry timer, so what runs after it must not block.
     */
    @Override
    public CompletionStage<WriteResult> writeAsync(List<Message> batch, boolean replay) {
        WriteGate.State at = gate.state();
        if (!at.open()) {
            return CompletableFuture.failedFuture(new WriteGateException("write gate closed: " + at.reason(), false));
        }
        return CircuitBreaker.decorateCompletionStage(breaker, Retry.decorateCompletionStage(retry, retryTimer, () -> {
            if (!gate.stillOpen(at.epoch())) { // a retry after the gate moved: do not send
                return CompletableFuture.failedFuture(new WriteGateException("write gate changed before a retry: "
                        + gate.state().reason(), true));
            }
            return sink.writeAsync(batch, at, replay);
        })).get().thenApply(result -> {
            if (!gate.stillOpen(at.epoch())) {
                throw new WriteGateException("write gate changed while the batch was in flight ("
                        + gate.state().reason() + "): outcome unknown", true);
            }
            return result;
        });
    }

    @Override
    public void onWritable(Runnable listener) {
        gate.addListener(state -> {
            if (state.open()) {
                listener.run();
            }
        });
        breaker.getEventPublisher().onStateTransition(e -> {
            if (e.getStateTransition().getToState() != CircuitBreaker.State.OPEN) {
                listener.run();
            }
        });
    }

    @Override
    public String blockedReason() {
        WriteGate.State g = gate.state();
        if (!g.open()) {
            return "write gate closed: " + g.reason();
        }
        return permitsCalls() ? "" : "circuit breaker " + breaker.getState();
    }

    public WriteGate gate() {
        return gate;
    }

    /** Stops the retry timer; writes waiting for a retry fail. */
    @Override
    public void close() {
        retryTimer.shutdownNow();
    }

    public CircuitBreaker breaker() {
        return breaker;
    }

    /** True when the gate is open and the breaker would let a call through now. */
    @Override
    public boolean permitsCalls() {
        return gate.state().open() && breaker.getState() != CircuitBreaker.State.OPEN
                && breaker.getState() != CircuitBreaker.State.FORCED_OPEN;
    }

    static Predicate<Throwable> isTransient() {
        return t -> {
            Throwable e = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
            return e instanceof RedisLinkException || e instanceof RedisErrorReply r && r.isTransient();
        };
    }
}
