package dev.spillway.relay.admin;

import com.codahale.metrics.MetricFilter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.graphite.Graphite;
import com.codahale.metrics.graphite.GraphiteReporter;
import com.codahale.metrics.health.HealthCheck;
import com.codahale.metrics.health.HealthCheckRegistry;
import com.codahale.metrics.jmx.JmxReporter;
import com.codahale.metrics.json.MetricsModule;
import com.codahale.metrics.jvm.GarbageCollectorMetricSet;
import com.codahale.metrics.jvm.MemoryUsageGaugeSet;
import com.codahale.metrics.jvm.ThreadStatesGaugeSet;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.relay.config.GraphiteConfig;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import dev.spillway.relay.Version;
import dev.spillway.relay.metrics.EventHistory;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's one metric registry made visible: JVM gauges ({@code jvm.*}), JMX (domain
 * {@code spillway}), an optional Graphite reporter, Dropwizard health checks, and the bytes
 * behind {@code /metrics} (metrics-json) and {@code /metrics/prometheus} (the registry through
 * {@link PrometheusView}, and the JVM and process metrics of the Prometheus client's own JVM
 * instrumentation under their standard names). Thread-safe.
 */
public final class RelayMetrics implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(RelayMetrics.class);
    /** Events {@code /events} keeps: hours of an incident's failovers, breaker flips and spill episodes. */
    static final int EVENTS_KEPT = 500;

    private final MetricRegistry registry;
    private final HealthCheckRegistry healthChecks = new HealthCheckRegistry();
    private final ObjectMapper json = new ObjectMapper()
            .registerModule(new MetricsModule(TimeUnit.SECONDS, TimeUnit.MILLISECONDS, false));
    private final PrometheusRegistry prometheus = new PrometheusRegistry();
    private final PrometheusTextFormatWriter prometheusWriter = PrometheusTextFormatWriter.create();
    private final EventHistory events = EventHistory.attach(EVENTS_KEPT);
    private final JmxReporter jmx;
    private final GraphiteReporter graphite;

    /**
     * @param relayName the {@code relay} label of every Spillway series in the Prometheus view
     */
    public RelayMetrics(MetricRegistry registry, GraphiteConfig graphiteConfig, String relayName) {
        this.registry = registry;
        registry.register("jvm.memory", new MemoryUsageGaugeSet());
        registry.register("jvm.gc", new GarbageCollectorMetricSet());
        registry.register("jvm.threads", new ThreadStatesGaugeSet());
        prometheus.register(new PrometheusView(registry, relayName, Version.get()));
        JvmMetrics.builder().register(prometheus);
        this.jmx = JmxReporter.forRegistry(registry).inDomain("spillway").build();
        jmx.start();
        if (graphiteConfig != null) {
            graphite = GraphiteReporter.forRegistry(registry).prefixedWith(graphiteConfig.prefix())
                    .convertRatesTo(TimeUnit.SECONDS).convertDurationsTo(TimeUnit.MILLISECONDS)
                    .filter(MetricFilter.ALL)
                    .build(new Graphite(new InetSocketAddress(graphiteConfig.host(), graphiteConfig.port())));
            graphite.start(graphiteConfig.interval().toSeconds(), TimeUnit.SECONDS);
            LOG.info("Reporting metrics to Graphite at {}:{} every {} s as {}.*", graphiteConfig.host(),
                    graphiteConfig.port(), graphiteConfig.interval().toSeconds(), graphiteConfig.prefix());
        } else {
            graphite = null;
        }
    }

    /** The last {@link dev.spillway.relay.metrics.RelayEvents} of this process, for {@code /events}. */
    public EventHistory events() {
        return events;
    }

    public MetricRegistry registry() {
        return registry;
    }

    public void addHealthCheck(String name, HealthCheck check) {
        healthChecks.register(name, check);
    }

    /** Each health check's result: {@code {name: {"healthy": bool, "message": text}}}. */
    public Map<String, Object> runHealthChecks() {
        Map<String, Object> out = new LinkedHashMap<>();
        SortedMap<String, HealthCheck.Result> results = healthChecks.runHealthChecks();
        results.forEach((name, r) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("healthy", r.isHealthy());
            m.put("message", r.getMessage());
            out.put(name, m);
        });
        return out;
    }

    /** The whole registry as metrics-json writes it (rates per second, durations in ms). */
    public byte[] json() throws IOException {
        return json.writeValueAsBytes(registry);
    }

    /** The whole registry in Prometheus' text format. */
    public byte[] prometheus() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        prometheusWriter.write(out, prometheus.scrape());
        return out.toByteArray();
    }

    public String prometheusContentType() {
        return prometheusWriter.getContentType();
    }

    @Override
    public void close() {
        events.detach();
        jmx.stop();
        if (graphite != null) {
            graphite.stop();
        }
    }
}
