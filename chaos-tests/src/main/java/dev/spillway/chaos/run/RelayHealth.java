package dev.spillway.chaos.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Reading what the chaos suite checks: a relay's {@code /health}, and a whole list. Thread-safe. */
final class RelayHealth {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    private RelayHealth() {}

    /** The whole list {@code key} from {@code jedis}, read in pages so that a long list does not time out. */
    static java.util.List<byte[]> readList(redis.clients.jedis.Jedis jedis, String key) {
        java.util.List<byte[]> all = new java.util.ArrayList<>();
        byte[] k = key.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        for (long from = 0; ; from += 20_000) {
            java.util.List<byte[]> page = jedis.lrange(k, from, from + 19_999);
            all.addAll(page);
            if (page.size() < 20_000) {
                return all;
            }
        }
    }

    /**
     * status, mode, pendingMessages, pendingBytes, master, breaker and gate of the relay at
     * {@code admin} (host:port), or empty if it does not answer.
     */
    static Optional<Map<String, Object>> read(String admin) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + admin + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode h = JSON.readTree(r.body());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("status", h.path("status").asText());
            m.put("mode", h.path("mode").asText());
            m.put("pendingMessages", h.path("spill").path("pendingMessages").asLong());
            m.put("master", h.path("master").asText());
            m.put("breaker", h.path("breaker").asText());
            m.put("gate", h.path("gate").asText());
            m.put("pendingBytes", h.path("spill").path("pendingBytes").asLong());
            return Optional.of(m);
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }
}
