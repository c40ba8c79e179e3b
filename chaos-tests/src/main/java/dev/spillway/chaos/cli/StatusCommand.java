package dev.spillway.chaos.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code status [--json]}: every process, the master, each relay's /health, HAProxy's view. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the local cluster.")
public final class StatusCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    BaseOption base;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Optional<LocalCluster> attached = LocalCluster.attach(base.resolve());
        if (attached.isEmpty()) {
            System.out.println(json ? "{\"up\":false}" : "The local cluster is not up ('./spillway up' starts it).");
            return 3;
        }
        LocalCluster cluster = attached.get();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("up", cluster.anyAlive());
        out.put("master", cluster.group().currentMaster().map(Node::address).orElse(null));
        List<Map<String, Object>> nodes = new java.util.ArrayList<>();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        for (Node n : cluster.allNodes()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", n.name());
            m.put("kind", n.kind().name().toLowerCase());
            m.put("pid", n.pid());
            m.put("port", n.port());
            m.put("state", !n.isAlive() ? "down" : n.isFrozen() ? "frozen" : n.ready() ? "up" : "not answering");
            if (n.kind() == Node.Kind.REDIS && n.isAlive() && !n.isFrozen()) {
                m.put("role", n.info("replication", "role"));
            }
            if (n.kind() == Node.Kind.RELAY) {
                String url = "http://127.0.0.1:" + n.probePort() + "/health";
                m.put("admin", url);
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                    m.put("health", JSON.readTree(r.body()));
                } catch (Exception e) {
                    m.put("health", null);
                }
            }
            nodes.add(m);
        }
        out.put("nodes", nodes);
        Map<String, String> view;
        try {
            view = cluster.haproxyRuntime().relayView();
        } catch (Exception e) {
            view = Map.of();
        }
        out.put("haproxy", view);
        if (json) {
            System.out.println(JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out));
            return 0;
        }
        System.out.println("master: " + out.get("master"));
        System.out.printf("%-12s %-9s %8s %6s  %s%n", "NAME", "KIND", "PID", "PORT", "STATE");
        for (Map<String, Object> m : nodes) {
            String extra = "";
            if (m.get("role") != null) {
                extra = " (" + m.get("role") + ")";
            }
            if (m.get("health") instanceof JsonNode h) {
                extra = " " + h.path("status").asText() + ", breaker " + h.path("breaker").asText() + ", spill "
                        + h.path("spill").path("pendingMessages").asText() + " msgs — " + m.get("admin");
            }
            System.out.printf("%-12s %-9s %8s %6s  %s%s%n", m.get("name"), m.get("kind"), m.get("pid"), m.get("port"),
                    m.get("state"), extra);
        }
        System.out.println("HAProxy: " + view);
        return 0;
    }
}
