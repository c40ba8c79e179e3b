package dev.spillway.chaos.workload;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A producer posting each message to {@code /v1/lists/{key}}; 200 = acked, 4xx/5xx = refused. */
public final class HttpProducer extends Producer {

    private final URI uri;
    private HttpClient client;

    public HttpProducer(int id, String host, int port, String key, int rate, long max, LatencyRecorder latency) {
        super(id, rate, max, latency);
        this.uri = URI.create("http://" + host + ":" + port + "/v1/lists/" + key);
    }

    @Override
    protected boolean send(String value) throws IOException, RefusedException {
        if (client == null) {
            client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1)
                    .build();
        }
        HttpResponse<String> r;
        try {
            r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
                    .POST(HttpRequest.BodyPublishers.ofString(value)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (r.statusCode() == 200) {
            return true;
        }
        if (r.statusCode() == 502 || r.statusCode() == 504) {
            throw new IOException("load balancer: " + r.statusCode()); // no relay answered: unknown
        }
        throw new RefusedException(r.statusCode() + " " + r.body());
    }

    @Override
    protected void reconnect() {
        client = null;
    }

    @Override
    protected void close() {
        client = null;
    }

    @Override
    public String protocol() {
        return "http";
    }
}
