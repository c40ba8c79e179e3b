package dev.spillway.relay.route;

import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.sink.WriteResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Settles a direct batch the sink wrote: acknowledges the messages before a run Redis refused,
 * fails the requests of that run with Redis's own error, and hands back the messages behind it,
 * which were not sent.
 *
 * <p>Thread-safe.
 */
final class DirectAcks {

    // logs and metrics under the router's name: both are what operators already watch
    private static final Logger LOG = LoggerFactory.getLogger(Router.class);

    private final AtomicInteger inFlight;
    private final Meter directMessages;
    private final Meter refusedByRedis;

    /** {@code inFlight} counts the router's messages not yet acknowledged or refused. */
    DirectAcks(AtomicInteger inFlight, MetricRegistry metrics) {
        this.inFlight = inFlight;
        this.directMessages = metrics.meter(MetricRegistry.name(Router.class, "direct"));
        this.refusedByRedis = metrics.meter("spillway.router.refused-by-redis");
    }

    /** Settles {@code batch} by {@code result}; returns the messages not sent, in order. */
    List<Pending> settle(List<Pending> batch, WriteResult result) {
        WriteResult.Refusal refusal = result.refusal();
        int written = 0;
        List<Pending> notSent = new ArrayList<>();
        for (Pending p : batch) {
            if (refusal == null || p.message().sequence() < refusal.firstSequence()) {
                written++;
                inFlight.decrementAndGet();
                p.ack().done();
            } else if (refusal.covers(p.message().instance(), p.message().sequence())) {
                inFlight.decrementAndGet();
                refusedByRedis.mark();
                p.ack().fail(new RelayRejectedException(RelayRejectedException.Reason.REDIS_REFUSED, refusal.error(),
                        null));
            } else {
                notSent.add(p);
            }
        }
        directMessages.mark(written);
        if (refusal != null) {
            LOG.info("Redis refused {} message(s) for key '{}' ({}); the producer is told, the rest go on",
                    refusal.count(), batch.stream().filter(p -> refusal.covers(p.message().instance(),
                            p.message().sequence())).findFirst().map(p -> p.message().keyString()).orElse("?"),
                    refusal.error());
        }
        return notSent;
    }
}
