package dev.spillway.relay.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.health.HealthCheck;
import dev.spillway.relay.config.GraphiteConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RelayMetricsTest {

    @Test
    void pushesTheRegistryToGraphiteWhenConfigured() throws Exception {
        try (ServerSocket graphite = new ServerSocket(0)) {
            graphite.setSoTimeout(10_000);
            MetricRegistry registry = new MetricRegistry();
            registry.meter("ingress.resp.messages").mark(42);
            try (RelayMetrics metrics = new RelayMetrics(registry,
                    new GraphiteConfig("127.0.0.1", graphite.getLocalPort(), "spillway.test", Duration.ofSeconds(1)), "r1")) {
                List<String> lines = new ArrayList<>();
                try (Socket s = graphite.accept(); BufferedReader in = new BufferedReader(
                        new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII))) {
                    String line;
                    while ((line = in.readLine()) != null && lines.size() < 2000) {
                        lines.add(line);
                        if (line.startsWith("spillway.test.ingress.resp.messages.count ")) {
                            break;
                        }
                    }
                }
                assertThat(lines).anyMatch(l -> l.matches("spillway\\.test\\.ingress\\.resp\\.messages\\.count 42 \\d+"));
                assertThat(lines).anyMatch(l -> l.startsWith("spillway.test.jvm.memory.heap.used "));
            }
        }
    }

    @Test
    void exposesJsonPrometheusAndHealthChecks() throws Exception {
        MetricRegistry registry = new MetricRegistry();
        registry.meter("ingress.line.messages").mark(3);
        try (RelayMetrics metrics = new RelayMetrics(registry, null, "r1")) {
            metrics.addHealthCheck("spill", new HealthCheck() {
                @Override
                protected Result check() {
                    return Result.unhealthy("spill log full: 10 of 10 bytes");
                }
            });
            assertThat(new String(metrics.json(), StandardCharsets.UTF_8))
                    .contains("\"ingress.line.messages\":{\"count\":3");
            assertThat(new String(metrics.prometheus(), StandardCharsets.UTF_8))
                    .contains("spillway_ingress_messages_total{listener=\"line\",relay=\"r1\"} 3.0");
            assertThat(metrics.runHealthChecks().toString()).contains("spill={healthy=false, message=spill log full");
        }
    }
}
