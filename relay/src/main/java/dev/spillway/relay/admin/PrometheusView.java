package dev.spillway.relay.admin;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.Metric;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.metrics.BucketTimer;
import dev.spillway.relay.sink.GuardedSink;
import dev.spillway.relay.sink.SentinelWatcher;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.CustomLabelMapper;
import io.prometheus.metrics.instrumentation.dropwizard5.labels.MapperConfig;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Exemplars;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot.SummaryDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The relay's Dropwizard registry as Prometheus expects it: each metric converted by the
 * Dropwizard bridge and renamed by its label mapper after {@link PrometheusCatalog}, every series
 * labelled with the relay's name; metrics that share a name after mapping (one per listener, say)
 * merged into one family; {@link BucketTimer}s as histograms; the string gauges (master, breaker
 * state) and the version as info-style gauges. JVM metrics are left to the Prometheus client's
 * own JVM instrumentation.
 *
 * <p>The bridge is applied to one Dropwizard metric at a time: given several metrics mapped to
 * one name, it would build a snapshot per metric and refuse the duplicate names.
 *
 * <p>Thread-safe.
 */
final class PrometheusView implements MultiCollector {

    static final String MASTER = MetricRegistry.name(SentinelWatcher.class, "master");
    static final String BREAKER_STATE = MetricRegistry.name(GuardedSink.class, "breaker", "state");
    private static final Set<String> STRING_GAUGES = Set.of(MASTER, BREAKER_STATE,
            MetricRegistry.name(dev.spillway.relay.route.Router.class, "mode"));
    private static final List<String> BREAKER_STATES = List.of("CLOSED", "OPEN", "HALF_OPEN");

    private final MetricRegistry registry;
    private final String relay;
    private final String version;
    private final CustomLabelMapper mapper;
    private final Map<String, PrometheusCatalog.Family> familiesByName;
    private final Map<String, DropwizardExports> bridges = new ConcurrentHashMap<>();

    PrometheusView(MetricRegistry registry, String relay, String version) {
        this.registry = registry;
        this.relay = relay;
        this.version = version;
        List<MapperConfig> configs = new ArrayList<>();
        for (PrometheusCatalog.Family f : PrometheusCatalog.FAMILIES) {
            Map<String, String> labels = new TreeMap<>(f.labels());
            labels.put("relay", relay);
            configs.add(new MapperConfig(f.match(), f.name(), labels));
        }
        this.mapper = new MeterNames(configs);
        this.familiesByName = PrometheusCatalog.all().stream()
                .collect(Collectors.toMap(PrometheusCatalog.Family::name, f -> f));
    }

    /**
     * The bridge asks the mapper about a meter as {@code <name>_total}: the suffix is taken off
     * before matching, so a meter matches its catalog entry like any other metric and a glob's
     * last part does not end in {@code _total} (the exposition adds it to counters).
     */
    private static final class MeterNames extends CustomLabelMapper {
        MeterNames(List<MapperConfig> configs) {
            super(configs);
        }

        @Override
        public String getName(String dropwizardName) {
            return super.getName(strip(dropwizardName));
        }

        @Override
        public Labels getLabels(String dropwizardName, List<String> names, List<String> values) {
            return super.getLabels(strip(dropwizardName), names, values);
        }

        private static String strip(String name) {
            return name.endsWith("_total") ? name.substring(0, name.length() - "_total".length()) : name;
        }
    }

    /** True for the Dropwizard metrics this view leaves out: the JVM's, which have standard names. */
    static boolean isJvm(String dropwizardName) {
        return dropwizardName.startsWith("jvm.");
    }

    @Override
    public MetricSnapshots collect() {
        Map<String, List<MetricSnapshot>> byName = new TreeMap<>();
        for (Map.Entry<String, Metric> e : registry.getMetrics().entrySet()) {
            String name = e.getKey();
            if (isJvm(name) || STRING_GAUGES.contains(name)) {
                continue;
            }
            if (e.getValue() instanceof BucketTimer t) {
                add(byName, histogram(name, t));
                continue;
            }
            DropwizardExports bridge = bridges.computeIfAbsent(name,
                    n -> new DropwizardExports(registry, (metricName, metric) -> metricName.equals(n), mapper));
            for (MetricSnapshot s : bridge.collect()) {
                add(byName, s);
            }
        }
        MetricSnapshots.Builder out = MetricSnapshots.builder();
        byName.forEach((name, parts) -> out.metricSnapshot(merge(parts)));
        out.metricSnapshot(info(PrometheusCatalog.BUILD_INFO, "version", version));
        out.metricSnapshot(info(PrometheusCatalog.MASTER_INFO, "address", stringGauge(MASTER, "unknown")));
        out.metricSnapshot(breakerState());
        return out.build();
    }

    private static void add(Map<String, List<MetricSnapshot>> byName, MetricSnapshot s) {
        byName.computeIfAbsent(s.getMetadata().getPrometheusName(), k -> new ArrayList<>()).add(s);
    }

    private HistogramSnapshot histogram(String dropwizardName, BucketTimer t) {
        double[] bounds = Arrays.copyOf(t.upperBounds(), t.upperBounds().length + 1);
        bounds[bounds.length - 1] = Double.POSITIVE_INFINITY;
        Labels labels = mapper.getLabels(dropwizardName, List.of(), List.of());
        HistogramDataPointSnapshot point = new HistogramDataPointSnapshot(
                ClassicHistogramBuckets.of(bounds, t.bucketCounts()), t.sumSeconds(), labels, Exemplars.EMPTY, 0L);
        return new HistogramSnapshot(new MetricMetadata(mapper.getName(dropwizardName)), List.of(point));
    }

    /** One family from the parts the bridge made, with the catalog's HELP and unit. */
    private MetricSnapshot merge(List<MetricSnapshot> parts) {
        MetricSnapshot first = parts.get(0);
        String name = first.getMetadata().getName();
        PrometheusCatalog.Family family = familiesByName.get(name);
        MetricMetadata meta = family == null ? first.getMetadata() : new MetricMetadata(name, family.help(), unit(name));
        if (first instanceof CounterSnapshot) {
            return new CounterSnapshot(meta, points(parts, CounterDataPointSnapshot.class));
        } else if (first instanceof GaugeSnapshot) {
            return new GaugeSnapshot(meta, points(parts, GaugeDataPointSnapshot.class));
        } else if (first instanceof SummarySnapshot) {
            return new SummarySnapshot(meta, points(parts, SummaryDataPointSnapshot.class));
        } else if (first instanceof HistogramSnapshot) {
            return new HistogramSnapshot(meta, points(parts, HistogramDataPointSnapshot.class));
        }
        throw new IllegalStateException("unexpected snapshot type " + first.getClass() + " for " + name);
    }

    private static <P extends DataPointSnapshot> List<P> points(List<MetricSnapshot> parts, Class<P> type) {
        List<P> points = new ArrayList<>();
        for (MetricSnapshot part : parts) {
            for (DataPointSnapshot p : part.getDataPoints()) {
                points.add(type.cast(p));
            }
        }
        return points;
    }

    private static Unit unit(String name) {
        if (name.endsWith("_seconds")) {
            return Unit.SECONDS;
        }
        return name.endsWith("_bytes") ? Unit.BYTES : null;
    }

    /** An info metric: the model names it without {@code _info}, which the exposition adds. */
    private InfoSnapshot info(PrometheusCatalog.Family family, String label, String value) {
        String name = family.name().substring(0, family.name().length() - "_info".length());
        return new InfoSnapshot(new MetricMetadata(name, family.help()),
                List.of(new InfoSnapshot.InfoDataPointSnapshot(Labels.of("relay", relay, label, value))));
    }

    private GaugeSnapshot breakerState() {
        String current = stringGauge(BREAKER_STATE, null);
        List<String> states = new ArrayList<>(BREAKER_STATES);
        if (current != null && !states.contains(current)) {
            states.add(current);
        }
        List<GaugeDataPointSnapshot> points = new ArrayList<>();
        if (current != null) {
            for (String s : states) {
                points.add(new GaugeDataPointSnapshot(s.equals(current) ? 1 : 0,
                        Labels.of("relay", relay, "state", s), null));
            }
        }
        PrometheusCatalog.Family f = PrometheusCatalog.BREAKER_STATE;
        return new GaugeSnapshot(new MetricMetadata(f.name(), f.help()), Collections.unmodifiableList(points));
    }

    private String stringGauge(String name, String otherwise) {
        Metric m = registry.getMetrics().get(name);
        if (m instanceof Gauge<?> g) {
            Object v = g.getValue();
            return v == null ? otherwise : v.toString();
        }
        return otherwise;
    }
}
