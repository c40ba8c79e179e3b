package dev.spillway.chaos.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code top}: every relay on one screen, refreshed each second — state, acknowledged messages
 * per second, ack p99, spill (messages and % of its maximum), refusals per second, breaker,
 * master — from each relay's {@code /health} and {@code /metrics}. The relays are the local
 * cluster's, or any given with {@code --relays host:port,...} (admin ports).
 */
@Command(name = "top", mixinStandardHelpOptions = true,
        description = "Every relay on one screen, refreshed each second (q or Ctrl-C to quit).")
public final class TopCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CLEAR = "\033[H\033[2J";

    @Mixin
    BaseOption base;

    @Option(names = "--relays", split = ",", description = "Admin host:port of each relay (default: the local cluster's).")
    List<String> relays;

    @Option(names = "--iterations", description = "Stop after N screens (default: until interrupted).")
    long iterations = Long.MAX_VALUE;

    @Option(names = "--interval", description = "Between screens (default: ${DEFAULT-VALUE}).", defaultValue = "1s")
    String interval;

    @Option(names = "--token", description = "Admin bearer token (security.adminToken), if the relays want one.")
    String token;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private final Map<String, long[]> previous = new HashMap<>(); // admin -> {acked, refused, nanos}

    @Override
    public Integer call() throws Exception {
        List<String> admins = relays != null ? relays : localCluster();
        if (admins.isEmpty()) {
            System.out.println("No relays: the local cluster is not up ('./spillway up'), and no --relays given.");
            return 3;
        }
        long pause = Units.duration(interval).toMillis();
        boolean tty = System.console() != null;
        for (long i = 0; i < iterations; i++) {
            String screen = screen(admins);
            System.out.print((tty ? CLEAR : "") + screen);
            System.out.flush();
            if (i + 1 < iterations) {
                Thread.sleep(pause);
            }
        }
        return 0;
    }

    private List<String> localCluster() throws Exception {
        Optional<LocalCluster> attached = LocalCluster.attach(base.resolve());
        List<String> out = new ArrayList<>();
        attached.ifPresent(c -> c.relays().forEach(r -> out.add("127.0.0.1:" + r.probePort())));
        return out;
    }

    /** One screen: a header line and a row per relay. */
    String screen(List<String> admins) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("spillway top — %s — %d relay(s)%n%n", LocalTime.now().truncatedTo(ChronoUnit.SECONDS),
                admins.size()));
        String format = "%-12s %-10s %9s %9s %9s %7s %9s %-10s %-22s %s%n";
        b.append(String.format(format, "RELAY", "STATE", "MSG/S", "P99 MS", "SPILL", "SPILL%", "REFUSED/S", "BREAKER",
                "MASTER", "ADMIN"));
        for (String admin : admins) {
            b.append(row(admin, format));
        }
        return b.toString();
    }

    private String row(String admin, String format) {
        JsonNode h;
        JsonNode m;
        try {
            h = get(admin, "/health");
            m = get(admin, "/metrics");
        } catch (Exception e) {
            return String.format(format, "?", "no answer", "", "", "", "", "", "", "", admin);
        }
        long acked = 0;
        long refused = 0;
        double p99 = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = m.path("meters").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().matches("ingress\\.[a-z]+\\.messages")) {
                acked += e.getValue().path("count").asLong();
            } else if (e.getKey().matches("ingress\\.([a-z]+\\.)?rejected\\..+")) {
                refused += e.getValue().path("count").asLong();
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = m.path("timers").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().matches("ingress\\.[a-z]+\\.ack-latency")) {
                p99 = Math.max(p99, e.getValue().path("p99").asDouble());
            }
        }
        long now = System.nanoTime();
        long[] prev = previous.put(admin, new long[] {acked, refused, now});
        double seconds = prev == null ? 0 : (now - prev[2]) / 1e9;
        String rate = prev == null || seconds <= 0 ? "-" : String.format("%.0f", Math.max(0, acked - prev[0]) / seconds);
        String refusedRate = prev == null || seconds <= 0 ? "-"
                : String.format("%.1f", Math.max(0, refused - prev[1]) / seconds);
        JsonNode spill = h.path("spill");
        long max = spill.path("maxBytes").asLong();
        String pct = max <= 0 ? "-" : String.format("%.1f", 100.0 * spill.path("pendingBytes").asLong() / max);
        return String.format(format, h.path("name").asText(), h.path("status").asText(), rate,
                String.format("%.2f", p99), spill.path("pendingMessages").asLong(), pct, refusedRate,
                h.path("breaker").asText(), h.path("master").asText(), admin);
    }

    private JsonNode get(String admin, String path) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://" + admin + path)).timeout(Duration.ofSeconds(2));
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> resp = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(resp.body()); // /health answers 503 with its body while not ready
    }
}
