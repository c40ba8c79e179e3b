package dev.spillway.relay.ingress;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.spillway.relay.metrics.BucketTimer;
import dev.spillway.relay.route.RelayRejectedException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * One listener's metrics: {@code ingress.<protocol>.messages} (acknowledged), the ack latency
 * (from a request's arrival to its durable ack; {@link BucketTimer#requestLatency()}) and
 * {@code ingress.<protocol>.rejected.<reason>}, and {@code ingress.<protocol>.auth-failures} (a
 * wrong password or token). Thread-safe.
 */
public final class IngressMetrics {

    /** Refusal reasons of the listeners themselves, besides the router's {@link RelayRejectedException.Reason}s. */
    private static final String[] REASONS = {"protocol-error", "too-large", "bad-request", "internal", "no-auth",
        "no-permission"};

    private final MetricRegistry registry;
    private final String protocol;
    private final Meter messages;
    private final Timer ackLatency;
    private final Meter authFailures;

    public IngressMetrics(MetricRegistry registry, String protocol) {
        this.registry = registry;
        this.protocol = protocol;
        this.messages = registry.meter(MetricRegistry.name("ingress", protocol, "messages"));
        this.ackLatency = registry.timer(MetricRegistry.name("ingress", protocol, "ack-latency"), BucketTimer::requestLatency);
        // every reason from the start, so a rate over them starts at zero rather than at the first refusal
        for (RelayRejectedException.Reason r : RelayRejectedException.Reason.values()) {
            registry.meter(name(reasonOf(r)));
        }
        for (String r : REASONS) {
            registry.meter(name(r));
        }
        this.authFailures = registry.meter(MetricRegistry.name("ingress", protocol, "auth-failures"));
    }

    private String name(String reason) {
        return MetricRegistry.name("ingress", protocol, "rejected", reason);
    }

    private static String reasonOf(RelayRejectedException.Reason r) {
        return r.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    void acked(int count, long startNanos) {
        messages.mark(count);
        ackLatency.update(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }

    /** Counts refused messages under their reason ({@code spill-full}, {@code protocol-error}, ...). */
    public void rejected(String reason, int count) {
        registry.meter(name(reason)).mark(count);
    }

    /** A wrong password or bearer token (which one, or whose, is not recorded). */
    public void authFailed() {
        authFailures.mark();
    }

    void rejected(Throwable error, int count) {
        rejected(error instanceof RelayRejectedException r ? reasonOf(r.reason()) : "internal", count);
    }
}
