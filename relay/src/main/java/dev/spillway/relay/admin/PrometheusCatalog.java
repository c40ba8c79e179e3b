package dev.spillway.relay.admin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How each Dropwizard metric of the relay is named in the Prometheus view: {@code spillway_}
 * names with their unit, listener / reason / trigger as labels, and a HELP text of its own.
 * Matches are Graphite-style globs (a {@code *} is one dot-separated part, {@code ${n}} the n-th
 * one), applied by the Dropwizard bridge's label mapper in this order. Counters and meters get
 * {@code _total} from the exposition format; timers kept as {@link dev.spillway.relay.metrics.BucketTimer}
 * become histograms, other timers and histograms summaries.
 */
final class PrometheusCatalog {

    private static final String SINK = "dev.spillway.relay.sink.";
    private static final String ROUTE = "dev.spillway.relay.route.Router.";
    private static final String SPILL = "dev.spillway.relay.spill.SpillLog.";

    private static final String TLS_HELP = "TLS handshakes that failed (a plaintext client, an untrusted or missing "
            + "client certificate, a timeout); only on listeners with tls: true.";

    /** Families a relay registers only when a feature is configured (TLS on a listener). */
    static final java.util.Set<String> CONDITIONAL = java.util.Set.of("spillway_tls_handshake_failures");

    /** One Prometheus family and the Dropwizard metrics it is made of. */
    record Family(String match, String name, String help, Map<String, String> labels) {}

    static final List<Family> FAMILIES = List.of(
            // ingress
            family("ingress.rejected.too-many-connections", "spillway_ingress_rejected_connections",
                    "Producer connections refused at limits.maxConnections."),
            family("ingress.*.messages", "spillway_ingress_messages",
                    "Messages acknowledged to producers (durable in Redis or in the spill log).", "listener", "${0}"),
            family("ingress.*.rejected.*", "spillway_ingress_rejected_messages",
                    "Messages refused to producers, by listener and reason.", "listener", "${0}", "reason", "${1}"),
            family("ingress.*.ack-latency", "spillway_ack_latency_seconds",
                    "From a request's arrival to its durable acknowledgement.", "listener", "${0}"),
            family("ingress.*.auth-failures", "spillway_ingress_auth_failures",
                    "Wrong passwords (RESP AUTH) and unknown bearer tokens (HTTP).", "listener", "${0}"),
            family("ingress.*.tls-handshake-failures", "spillway_tls_handshake_failures", TLS_HELP, "listener", "${0}"),
            family("admin.tls-handshake-failures", "spillway_tls_handshake_failures", TLS_HELP, "listener", "admin"),
            family("ingress.connections", "spillway_ingress_connections", "Open producer connections, all listeners."),
            family("ingress.in-flight", "spillway_ingress_in_flight_messages",
                    "Messages received from producers and not yet answered."),
            // Redis
            family(SINK + "RedisSink.write", "spillway_redis_batch_write_seconds",
                    "One acknowledged batch written to Redis, WAIT for the replicas included."),
            family(SINK + "RedisSink.batch-size", "spillway_redis_batch_messages",
                    "Messages per Redis batch (quantiles of recent batches)."),
            family(SINK + "RedisSink.applied", "spillway_redis_applied_messages", "Messages pushed onto Redis lists."),
            family(SINK + "RedisSink.deduped", "spillway_redis_deduped_messages",
                    "Messages skipped because Redis had already applied them (a replay after an unknown outcome)."),
            family(SINK + "RedisSink.script-reloads", "spillway_redis_script_reloads",
                    "Batches sent again with the write script's text because the master did not have it (NOSCRIPT)."),
            family("spillway.redis.refused-messages", "spillway_redis_refused_messages",
                    "Messages Redis refused inside a batch (WRONGTYPE and other per-message errors)."),
            family("spillway.redis.connections-opened", "spillway_redis_connections_opened",
                    "Connections opened to the master the write gate names (at start, after a failover or a lost connection)."),
            family(SINK + "GuardedSink.retries", "spillway_redis_retries", "Retries after transient Redis errors."),
            family(SINK + "GuardedSink.breaker.state-code", "spillway_breaker_state_code",
                    "The Redis circuit breaker: 0 closed, 1 open, 2 half-open, 3 other."),
            family(SINK + "GuardedSink.breaker.failure-rate", "spillway_breaker_failure_rate_percent",
                    "Failed calls in the breaker's window in percent; -1 until sink.breaker.minCalls calls."),
            family(SINK + "GuardedSink.breaker.slow-call-rate", "spillway_breaker_slow_call_rate_percent",
                    "Slow calls in the breaker's window in percent; -1 until sink.breaker.minCalls calls."),
            family(SINK + "GuardedSink.breaker.not-permitted", "spillway_breaker_not_permitted_calls",
                    "Calls the breaker refused since it last changed state."),
            // Sentinel and the write gate
            family("spillway.sentinel.failovers", "spillway_sentinel_failovers",
                    "Failovers seen (+switch-master from the Sentinels)."),
            family("spillway.sentinel.trouble-events", "spillway_sentinel_trouble_events",
                    "Sentinel events about the master or a failover; each closes the write gate."),
            family("spillway.sentinel.answering", "spillway_sentinel_answering",
                    "Configured Sentinels that answered within sink.redis.sentinelTimeout."),
            family("spillway.gate.open", "spillway_gate_open", "1 while the write gate lets direct writes to Redis through."),
            family("spillway.gate.epoch", "spillway_gate_epoch", "The write gate's epoch: it grows each time the gate opens."),
            family("spillway.gate.closings", "spillway_gate_closings", "Times the write gate closed since start."),
            // the router
            family(ROUTE + "direct", "spillway_direct_messages",
                    "Messages acknowledged after a direct write to Redis."),
            family(ROUTE + "spilled", "spillway_spilled_messages", "Messages acknowledged after an fsync'd spill."),
            family(ROUTE + "replayed", "spillway_replayed_messages", "Spilled messages replayed into Redis."),
            family(ROUTE + "replay-deduped", "spillway_replay_deduped_messages",
                    "Spilled messages Redis already had when replayed (not pushed twice)."),
            family(ROUTE + "rejected", "spillway_router_rejected_messages",
                    "Messages neither written nor spilled (every reason; by listener: spillway_ingress_rejected_messages)."),
            family(ROUTE + "spilling", "spillway_spilling", "1 while the relay acknowledges from the spill log."),
            family(ROUTE + "spill-episodes", "spillway_spill_episodes", "Times the relay turned to the spill log."),
            family(ROUTE + "in-flight", "spillway_router_in_flight_messages", "Messages routed and not yet durable."),
            family("spillway.router.refused-by-redis", "spillway_router_refused_by_redis_messages",
                    "Producers' messages answered with Redis's own error (WRONGTYPE on a direct write)."),
            family("spillway.dead-letter.messages", "spillway_dead_letter_messages",
                    "Acknowledged messages Redis refused on replay, moved to sink.deadLetterKey."),
            // the spill log
            family(SPILL + "pending-messages", "spillway_spill_messages", "Messages in the spill log not yet replayed."),
            family(SPILL + "pending-bytes", "spillway_spill_bytes", "Bytes in the spill log not yet replayed."),
            family(SPILL + "max-bytes", "spillway_spill_max_bytes",
                    "spill.maxBytes: the spill log refuses appends beyond it."),
            family(SPILL + "segments", "spillway_spill_segments", "Segment files in the spill log."),
            family(SPILL + "appends", "spillway_spill_appended_messages", "Messages appended to the spill log."),
            family(SPILL + "full-rejects", "spillway_spill_full_rejected_messages",
                    "Messages refused because the spill log held spill.maxBytes."),
            family(SPILL + "disk-full-rejects", "spillway_spill_disk_full_rejected_messages",
                    "Messages refused because the spill disk was full."),
            family(SPILL + "disk-full", "spillway_spill_disk_full", "1 while the spill disk is full."),
            family(SPILL + "write-failures", "spillway_spill_write_failures", "Failed spill writes or fsyncs."),
            family(SPILL + "fsync", "spillway_spill_fsync_seconds", "One group-commit fsync of the spill log."),
            family(SPILL + "records-per-fsync", "spillway_spill_records_per_fsync",
                    "Records made durable by one fsync (quantiles of recent fsyncs)."),
            family(SPILL + "flush.*", "spillway_spill_fsyncs", "Group-commit fsyncs by what triggered them.",
                    "trigger", "${0}"));

    /** Families the view makes itself, from string gauges and the build. */
    static final Family BUILD_INFO = new Family("", "spillway_build_info", "The relay's version.", Map.of());
    static final Family MASTER_INFO = new Family("", "spillway_master_info",
            "The master the Sentinels name (address label); \"unknown\" before one is known.", Map.of());
    static final Family BREAKER_STATE = new Family("", "spillway_breaker_state",
            "1 for the Redis circuit breaker's current state, 0 for the others.", Map.of());

    private PrometheusCatalog() {}

    private static Family family(String match, String name, String help, String... labels) {
        Map<String, String> l = new LinkedHashMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            l.put(labels[i], labels[i + 1]);
        }
        return new Family(match, name, help, l);
    }

    /** Every family this view can expose, in catalog order. */
    static List<Family> all() {
        List<Family> all = new ArrayList<>();
        for (Family f : FAMILIES) {
            if (all.stream().noneMatch(a -> a.name().equals(f.name()))) {
                all.add(f);
            }
        }
        all.add(BUILD_INFO);
        all.add(MASTER_INFO);
        all.add(BREAKER_STATE);
        return all;
    }
}
