package dev.spillway.relay.ingress.http;

import dev.spillway.relay.Message;
import dev.spillway.relay.ingress.InFlight;
import dev.spillway.relay.ingress.IngressMetrics;
import dev.spillway.relay.ingress.Rejections;
import dev.spillway.relay.ingress.ReplyingHandler;
import dev.spillway.relay.route.Intake;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code POST /v1/lists/{key}}: the body is one message, or with
 * {@code Content-Type: application/x-ndjson} one message per line. {@code 200 {"accepted":N}}
 * once every message is durable; 400 bad input, 401 missing or wrong bearer token, 404 other
 * paths, 405 other methods, 409 Redis refused the message (e.g. {@code WRONGTYPE}), 411 no
 * length, 413 too large, 503 + {@code Retry-After} when the relay cannot take messages now. Responses leave in request order (pipelining).
 *
 * <p>One instance per connection; confined to its event loop.
 */
public final class HttpIngestHandler extends ReplyingHandler<FullHttpRequest> {

    static final String PREFIX = "/v1/lists/";

    private final Intake router;
    private final int maxValueBytes;
    private final byte[] token;

    public HttpIngestHandler(Intake router, InFlight inFlight, IngressMetrics metrics, int maxValueBytes,
            String token) {
        super(FullHttpRequest.class, inFlight, metrics);
        this.router = router;
        this.maxValueBytes = maxValueBytes;
        this.token = token == null ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    }


    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (replies.isClosing()) {
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (req.decoderResult().isFailure()) {
            replies.replyAndClose(HttpReplies.error(HttpResponseStatus.BAD_REQUEST,
                    "malformed request: " + req.decoderResult().cause().getMessage()));
            return;
        }
        String path = new QueryStringDecoder(req.uri()).path();
        if (!path.startsWith(PREFIX) || path.length() == PREFIX.length() || path.indexOf('/', PREFIX.length()) >= 0) {
            send(HttpReplies.error(HttpResponseStatus.NOT_FOUND, "no such resource; use POST " + PREFIX + "{key}"),
                    keepAlive);
            return;
        }
        if (!req.method().equals(HttpMethod.POST)) {
            FullHttpResponse r = HttpReplies.error(HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST");
            r.headers().set(HttpHeaderNames.ALLOW, "POST");
            send(r, keepAlive);
            return;
        }
        if (token != null) {
            String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION, "");
            if (!MessageDigest.isEqual(token, auth.getBytes(StandardCharsets.UTF_8))) {
                FullHttpResponse r = HttpReplies.error(HttpResponseStatus.UNAUTHORIZED,
                        "missing or wrong bearer token (security.httpToken)");
                r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
                send(r, keepAlive);
                return;
            }
        }
        if (req.headers().contains(LengthCheck.MISSING)) {
            send(HttpReplies.error(HttpResponseStatus.LENGTH_REQUIRED, "Content-Length or chunked body required"),
                    keepAlive);
            return;
        }
        String key = QueryStringDecoder.decodeComponent(path.substring(PREFIX.length()));
        String contentType = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        List<byte[]> values;
        try {
            values = contentType.startsWith("application/x-ndjson") ? lines(req.content()) : single(req.content());
        } catch (BadInput e) {
            metrics.rejected(e.status.code() == 413 ? "too-large" : "bad-request", 1);
            send(HttpReplies.error(e.status, e.getMessage()), keepAlive);
            return;
        }
        int n = values.size();
        replies.completeLater(n, router.submit(Message.ListOp.RPUSH, key.getBytes(StandardCharsets.UTF_8), values),
                err -> finish(err == null ? HttpReplies.json(HttpResponseStatus.OK, Map.of("accepted", n))
                        : refusal(err), keepAlive));
    }

    /**
     * 409 when Redis itself refused the message (the key holds another type): sending it again
     * cannot help, so no {@code Retry-After}. Otherwise 503 + {@code Retry-After}.
     */
    private FullHttpResponse refusal(Throwable err) {
        if (Rejections.isRedisRefusal(err)) {
            return HttpReplies.error(HttpResponseStatus.CONFLICT, Rejections.describe(err));
        }
        FullHttpResponse r = HttpReplies.error(HttpResponseStatus.SERVICE_UNAVAILABLE, Rejections.describe(err));
        r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        return r;
    }

    private List<byte[]> single(ByteBuf body) throws BadInput {
        if (!body.isReadable()) {
            throw new BadInput(HttpResponseStatus.BAD_REQUEST, "empty body: nothing to push");
        }
        if (body.readableBytes() > maxValueBytes) {
            throw new BadInput(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "message of " + body.readableBytes()
                    + " bytes exceeds limits.maxValueBytes " + maxValueBytes);
        }
        return List.of(ByteBufUtil.getBytes(body));
    }

    private List<byte[]> lines(ByteBuf body) throws BadInput {
        List<byte[]> out = new ArrayList<>();
        int start = body.readerIndex();
        int end = body.writerIndex();
        int lineNo = 0;
        while (start < end) {
            int nl = body.indexOf(start, end, (byte) '\n');
            int stop = nl < 0 ? end : nl;
            int len = stop - start;
            if (len > 0 && body.getByte(stop - 1) == '\r') {
                len--;
            }
            lineNo++;
            if (len == 0) {
                throw new BadInput(HttpResponseStatus.BAD_REQUEST, "empty line " + lineNo + " in NDJSON body");
            }
            if (len > maxValueBytes) {
                throw new BadInput(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "line " + lineNo + " of " + len
                        + " bytes exceeds limits.maxValueBytes " + maxValueBytes);
            }
            out.add(ByteBufUtil.getBytes(body, start, len));
            start = stop + 1;
        }
        if (out.isEmpty()) {
            throw new BadInput(HttpResponseStatus.BAD_REQUEST, "empty body: nothing to push");
        }
        return out;
    }

    private void send(FullHttpResponse r, boolean keepAlive) {
        if (keepAlive) {
            replies.reply(finish(r, true));
        } else {
            replies.replyAndClose(finish(r, false));
        }
    }

    private static FullHttpResponse finish(FullHttpResponse r, boolean keepAlive) {
        r.headers().set(HttpHeaderNames.CONNECTION, keepAlive ? HttpHeaderValues.KEEP_ALIVE : HttpHeaderValues.CLOSE);
        return r;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!replies.isClosing() && ctx.channel().isActive()) {
            replies.replyAndClose(HttpReplies.error(HttpResponseStatus.BAD_REQUEST, "malformed request: "
                    + (cause.getCause() != null ? cause.getCause().getMessage() : cause.getMessage())));
        } else {
            ctx.close();
        }
    }




    private static final class BadInput extends Exception {
        final HttpResponseStatus status;

        BadInput(HttpResponseStatus status, String message) {
            super(message);
            this.status = status;
        }
    }

    @Override
    protected Object idleGoodbye() {
        return null;
    }
}
