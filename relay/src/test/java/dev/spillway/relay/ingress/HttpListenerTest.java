package dev.spillway.relay.ingress;

import static dev.spillway.relay.ingress.ChannelSupport.output;
import static dev.spillway.relay.ingress.ChannelSupport.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.http.HttpIngestInitializer;
import dev.spillway.relay.route.RelayRejectedException;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

class HttpListenerTest {

    private final FakeIntake intake = new FakeIntake();

    private EmbeddedChannel channel(String token) {
        Limits limits = ChannelSupport.limits(64, 100);
        return new EmbeddedChannel(new HttpIngestInitializer(intake, limits, ChannelSupport.inFlight(limits), ChannelSupport.metrics(),
                ChannelSupport.limiter(null), token));
    }

    private static String post(String path, String contentType, String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + (contentType == null ? "" : "Content-Type: " + contentType
                + "\r\n") + "Content-Length: " + body.length() + "\r\n\r\n" + body;
    }

    @Test
    void pushesOneBodyAndAnswersAcceptedOnceDurable() {
        EmbeddedChannel ch = channel(null);
        write(ch, post("/v1/lists/orders%3Aeu", "text/plain", "hello"));
        assertThat(intake.submissions.get(0).key()).isEqualTo("orders:eu");
        assertThat(output(ch)).isEmpty();
        intake.ackAll();
        String out = output(ch);
        assertThat(out).startsWith("HTTP/1.1 200 OK").endsWith("{\"accepted\":1}");
    }

    @Test
    void pushesEachNdjsonLineInOrder() {
        EmbeddedChannel ch = channel(null);
        intake.autoAck = true;
        write(ch, post("/v1/lists/q", "application/x-ndjson", "{\"a\":1}\n{\"b\":2}\r\n{\"c\":3}\n"));
        assertThat(intake.submissions.get(0).values()).containsExactly("{\"a\":1}", "{\"b\":2}", "{\"c\":3}");
        assertThat(output(ch)).endsWith("{\"accepted\":3}");
    }

    @Test
    void answersBadRequestsWithTheirOwnStatus() {
        assertStatus(post("/v1/lists/q", null, ""), "400 Bad Request", "empty body");
        assertStatus(post("/v1/lists/q", "application/x-ndjson", "a\n\nb\n"), "400 Bad Request", "empty line 2");
        assertStatus(post("/v1/lists/q", null, "x".repeat(65)), "413 Request Entity Too Large", "limits.maxValueBytes");
        assertStatus(post("/v1/lists/q", "application/x-ndjson", "ok\n" + "x".repeat(65)), "413", "line 2");
        assertStatus(post("/v1/lists/q", null, "x".repeat(5000)), "413", "");
        assertStatus(post("/v2/other", null, "x"), "404 Not Found", "POST /v1/lists/{key}");
        assertStatus(post("/v1/lists/a/b", null, "x"), "404 Not Found", "");
        assertStatus("GET /v1/lists/q HTTP/1.1\r\nHost: x\r\n\r\n", "405 Method Not Allowed", "use POST");
        assertStatus("POST /v1/lists/q HTTP/1.1\r\nHost: x\r\n\r\n", "411 Length Required", "Content-Length");
        assertStatus("\u0000\u0001garbage\r\n\r\n", "400 Bad Request", "");
        assertThat(intake.submissions).isEmpty();
    }

    @Test
    void requiresTheBearerTokenWhenOneIsSet() {
        EmbeddedChannel ch = channel("t0ken");
        write(ch, post("/v1/lists/q", null, "x"));
        assertThat(output(ch)).startsWith("HTTP/1.1 401 Unauthorized").containsIgnoringCase("WWW-Authenticate: Bearer");
        intake.autoAck = true;
        write(ch, "POST /v1/lists/q HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\nContent-Length: 1\r\n\r\nx");
        assertThat(output(ch)).startsWith("HTTP/1.1 200 OK");
    }

    @Test
    void answersRefusalsWith503AndRetryAfter() {
        EmbeddedChannel ch = channel(null);
        write(ch, post("/v1/lists/q", null, "x"));
        intake.submissions.get(0).ack().completeExceptionally(new RelayRejectedException(
                RelayRejectedException.Reason.SPILL_FULL, "spill log full: 10 of 10 bytes pending", null));
        assertThat(output(ch)).startsWith("HTTP/1.1 503 Service Unavailable").containsIgnoringCase("Retry-After: 1")
                .contains("spill log full");
    }

    @Test
    void answersRedisOwnRefusalWith409AndNoRetryAfterAndKeepsTheConnection() {
        EmbeddedChannel ch = channel(null);
        write(ch, post("/v1/lists/h", null, "x") + post("/v1/lists/q", null, "y"));
        intake.submissions.get(0).ack().completeExceptionally(new RelayRejectedException(
                RelayRejectedException.Reason.REDIS_REFUSED, RespListenerTest.WRONGTYPE, null));
        intake.submissions.get(1).ack().complete(null);
        String out = output(ch);
        assertThat(out).startsWith("HTTP/1.1 409 Conflict")
                .contains("{\"error\":\"" + RespListenerTest.WRONGTYPE + "\"}")
                .doesNotContainIgnoringCase("Retry-After");
        assertThat(out.substring(out.indexOf("}") + 1)).startsWith("HTTP/1.1 200 OK").endsWith("{\"accepted\":1}");
        assertThat(ch.isActive()).isTrue();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    private void assertStatus(String request, String status, String bodyPart) {
        EmbeddedChannel ch = channel(null);
        write(ch, request);
        String out = output(ch);
        assertThat(out).as(request.length() > 50 ? request.substring(0, 50) : request)
                .startsWith("HTTP/1.1 " + status).contains(bodyPart);
        ch.finishAndReleaseAll();
    }
}
