package dev.spillway.relay.net;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** JSON responses shared by the ingest and admin HTTP listeners. Stateless; thread-safe. */
public final class HttpReplies {

    public static final ObjectMapper JSON = new ObjectMapper();

    private HttpReplies() {}

    public static FullHttpResponse json(HttpResponseStatus status, Object body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (Exception e) {
            throw new IllegalStateException("cannot serialize " + body, e);
        }
        return bytes(status, bytes, HttpHeaderValues.APPLICATION_JSON.toString());
    }

    public static FullHttpResponse error(HttpResponseStatus status, String message) {
        return json(status, Map.of("error", message));
    }

    public static FullHttpResponse bytes(HttpResponseStatus status, byte[] body, String contentType) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.length);
        return r;
    }

    public static FullHttpResponse text(HttpResponseStatus status, String body, String contentType) {
        return bytes(status, body.getBytes(StandardCharsets.UTF_8), contentType);
    }
}
