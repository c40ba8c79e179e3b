package dev.spillway.relay.ingress;

import static dev.spillway.relay.ingress.ChannelSupport.output;
import static dev.spillway.relay.ingress.ChannelSupport.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.http.HttpIngestInitializer;
import dev.spillway.relay.route.Intake;
import dev.spillway.relay.route.RelayRejectedException;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HttpListenerTest {

    private final FakeIntake intake = new FakeIntake();

    private EmbeddedChannel channel(String token) {
        return channel(intake, token);
    }

    private static EmbeddedChannel channel(Intake intake, String token) {
        Limits limits = ChannelSupport.limits(64, 100);
        return new EmbeddedChannel(new HttpIngestInitializer(new ListenerContext(intake, limits, ChannelSupport.inFlight(limits), ChannelSupport.metrics(),
                ChannelSupport.limiter(null)), ChannelSupport.token(token)));
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
        assertStatus(post("/v1/lists/", null, "x"), "400 Bad Request", "empty key");
        assertStatus(post("/v1/lists/a%zz", null, "x"), "400 Bad Request", "malformed percent-encoding in key");
        assertStatus(post("/v1/lists/a%4", null, "x"), "400 Bad Request", "malformed percent-encoding in key");
        assertStatus(post("/v1/lists/q", "text/plain", "x") .replace("Host: x", "Host: x\r\nExpect: magic"),
                "417 Expectation Failed", "unsupported Expect: magic");
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

    @Test
    void decodesTheKeyInThePathExactlyOnceIntoItsBytes() {
        EmbeddedChannel ch = channel(null);
        intake.autoAck = true;
        write(ch, post("/v1/lists/a%2541", null, "1") + post("/v1/lists/a+b", null, "2")
                + post("/v1/lists/a%2Fb", null, "3") + post("/v1/lists/caf%C3%A9?x=1", null, "4")
                + post("/v1/lists/caf\u00c3\u00a9", null, "5") + post("/v1/lists/%20", null, "6"));
        assertThat(intake.submissions).extracting(FakeIntake.Submission::key)
                .containsExactly("a%41", "a+b", "a/b", "café", "café", " ");
        assertThat(output(ch).split("HTTP/1.1 200 OK", -1)).hasSize(7);
    }

    @Test
    void answersBadInputOnTheKeyAndKeepsTheConnection() {
        EmbeddedChannel ch = channel(null);
        intake.autoAck = true;
        write(ch, post("/v1/lists/", null, "x") + post("/v1/lists/%g0", null, "x") + post("/v1/lists/q", null, "y"));
        String out = output(ch);
        assertThat(out).startsWith("HTTP/1.1 400 Bad Request").contains("empty key").contains("malformed percent-encoding")
                .endsWith("{\"accepted\":1}");
        assertThat(intake.submissions).extracting(FakeIntake.Submission::key).containsExactly("q");
        assertThat(ch.isActive()).isTrue();
    }

    @Test
    void takesNdjsonWhateverTheCaseOfItsMediaType() {
        EmbeddedChannel ch = channel(null);
        intake.autoAck = true;
        write(ch, post("/v1/lists/q", "Application/X-NDJSON; charset=utf-8", "a\nb\n"));
        assertThat(intake.submissions.get(0).values()).containsExactly("a", "b");
    }

    @Test
    void answersAnOversizedBodyInItsTurnAfterEarlierPipelinedRequestsAndCarriesOn() {
        EmbeddedChannel ch = channel(null);
        write(ch, post("/v1/lists/q", null, "a") + post("/v1/lists/q", null, "x".repeat(20_000))
                + post("/v1/lists/q", null, "b"));
        assertThat(output(ch)).as("nothing may overtake the first request's answer").isEmpty();
        intake.ackAll();
        String out = output(ch);
        assertThat(out).startsWith("HTTP/1.1 200 OK");
        assertThat(out.indexOf("413 Request Entity Too Large")).isGreaterThan(0)
                .isLessThan(out.lastIndexOf("HTTP/1.1 200 OK"));
        assertThat(out).contains("limits.maxRequestBytes");
        assertThat(intake.submissions).extracting(s -> s.values().get(0)).containsExactly("a", "b");
        assertThat(ch.isActive()).isTrue();
    }

    @Test
    void answersAnOversizedChunkedBodyAfterEarlierPipelinedRequestsThenCloses() {
        EmbeddedChannel ch = channel(null);
        write(ch, post("/v1/lists/q", null, "a") + "POST /v1/lists/q HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4e20\r\n" + "x".repeat(20_000) + "\r\n0\r\n\r\n");
        assertThat(ch.isActive()).as("still owes the first answer").isTrue();
        assertThat(output(ch)).isEmpty();
        intake.ackAll();
        String out = output(ch);
        assertThat(out).startsWith("HTTP/1.1 200 OK").contains("HTTP/1.1 413 Request Entity Too Large")
                .containsIgnoringCase("connection: close");
        assertThat(ch.isActive()).isFalse();
    }

    @Test
    void answersExpectContinueWithContinueOrInTurnWith413WithoutWaitingForTheBody() {
        EmbeddedChannel ch = channel(null);
        intake.autoAck = true;
        write(ch, "POST /v1/lists/q HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
        assertThat(output(ch)).isEqualTo("HTTP/1.1 100 Continue\r\n\r\n");
        write(ch, "a");
        assertThat(output(ch)).startsWith("HTTP/1.1 200 OK");
        intake.autoAck = false;
        write(ch, post("/v1/lists/q", null, "b")
                + "POST /v1/lists/q HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 20000\r\n\r\n"
                + post("/v1/lists/q", null, "c"));
        assertThat(output(ch)).isEmpty();
        intake.ackAll();
        String out = output(ch);
        assertThat(out).doesNotContain("100 Continue").startsWith("HTTP/1.1 200 OK").contains("413")
                .endsWith("{\"accepted\":1}");
        assertThat(intake.submissions).extracting(s -> s.values().get(0)).containsExactly("a", "b", "c");
        assertThat(ch.isActive()).isTrue();
    }

    @Test
    void refusesAnUnsupportedExpectationInItsTurnAndCarriesOn() {
        EmbeddedChannel ch = channel(null);
        write(ch, post("/v1/lists/q", null, "a") + post("/v1/lists/q", null, "b").replace("Host: x", "Host: x\r\nExpect: magic")
                + post("/v1/lists/q", null, "c"));
        assertThat(output(ch)).isEmpty();
        intake.ackAll();
        String out = output(ch);
        assertThat(out).startsWith("HTTP/1.1 200 OK").contains("HTTP/1.1 417 Expectation Failed").endsWith("{\"accepted\":1}");
        assertThat(intake.submissions).extracting(s -> s.values().get(0)).containsExactly("a", "c");
        assertThat(ch.isActive()).isTrue();
    }

    @Test
    void aRouterThatThrowsIsAnInternalErrorForThatRequestAlone() {
        Intake throwing = (op, key, values) -> {
            if (new String(key, StandardCharsets.UTF_8).equals("boom")) {
                throw new IllegalStateException("cannot build it");
            }
            return intake.submit(op, key, values);
        };
        EmbeddedChannel ch = channel(throwing, null);
        write(ch, post("/v1/lists/q", null, "a") + post("/v1/lists/boom", null, "b") + post("/v1/lists/q", null, "c"));
        assertThat(output(ch)).isEmpty();
        intake.ackAll();
        String out = output(ch);
        assertThat(out).startsWith("HTTP/1.1 200 OK").contains("HTTP/1.1 500 Internal Server Error")
                .contains("internal error: java.lang.IllegalStateException: cannot build it").endsWith("{\"accepted\":1}");
        assertThat(out).doesNotContainIgnoringCase("Retry-After");
        assertThat(ch.isActive()).isTrue();
    }

    @Test
    void anUnexpectedFailureIsAnswered500AfterEarlierResponsesBeforeTheConnectionCloses() {
        EmbeddedChannel ch = channel(null);
        write(ch, post("/v1/lists/q", null, "a"));
        ch.pipeline().fireExceptionCaught(new IllegalStateException("a bug"));
        assertThat(ch.isActive()).isTrue();
        intake.ackAll();
        String out = output(ch);
        assertThat(out).startsWith("HTTP/1.1 200 OK").contains("HTTP/1.1 500 Internal Server Error")
                .contains("internal error: java.lang.IllegalStateException: a bug");
        assertThat(ch.isActive()).isFalse();
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
