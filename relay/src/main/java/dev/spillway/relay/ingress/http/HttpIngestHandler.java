package dev.spillway.relay.ingress.http;

import dev.spillway.relay.Message;
import dev.spillway.relay.ingress.InFlight;
import dev.spillway.relay.ingress.IngressMetrics;
import dev.spillway.relay.ingress.Rejections;
import dev.spillway.relay.ingress.ReplyingHandler;
import dev.spillway.relay.net.HttpReplies;
import dev.spillway.relay.route.Intake;
import dev.spillway.relay.route.RelayRejectedException;
import dev.spillway.relay.security.IngressUser;
import dev.spillway.relay.security.IngressUsers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /v1/lists/{key}}: the body is one message, or with
 * {@code Content-Type: application/x-ndjson} one message per line. {@code 200 {"accepted":N}}
 * once every message is durable; 400 bad input, 401 missing or wrong bearer token, 403 a key the
 * token's user may not push to (nothing of the request is routed), 404 other
 * paths, 405 other methods, 409 Redis refused the message (e.g. {@code WRONGTYPE}), 411 no
 * length, 413 too large, 417 an {@code Expect} other than {@code 100-continue}, 503 +
 * {@code Retry-After} when the relay cannot take messages now. Responses leave in request order
 * (pipelining), refusals of the codec's included ({@link OrderedAggregator}). The key in the path
 * is percent-decoded exactly once ({@link #key}).
 *
 * <p>One instance per connection; confined to its event loop.
 */
public final class HttpIngestHandler extends ReplyingHandler<FullHttpRequest> {

    private static final Logger LOG = LoggerFactory.getLogger(HttpIngestHandler.class);
    static final String PREFIX = "/v1/lists/";

    private final Intake router;
    private final int maxValueBytes;
    private final IngressUsers users;

    public HttpIngestHandler(Intake router, InFlight inFlight, IngressMetrics metrics, int maxValueBytes,
            IngressUsers users) {
        super(FullHttpRequest.class, inFlight, metrics);
        this.router = router;
        this.maxValueBytes = maxValueBytes;
        this.users = users;
    }


    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (replies.isClosing()) {
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (req.decoderResult().isFailure()) {
            Throwable cause = req.decoderResult().cause();
            if (cause instanceof OrderedAggregator.TooLarge) {
                metrics.rejected("too-large", 1);
                send(HttpReplies.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, cause.getMessage()), keepAlive);
            } else {
                replies.replyAndClose(HttpReplies.error(HttpResponseStatus.BAD_REQUEST,
                        "malformed request: " + cause.getMessage()));
            }
            return;
        }
        String expect = req.headers().get(HttpHeaderNames.EXPECT);
        if (expect != null && !req.protocolVersion().equals(HttpVersion.HTTP_1_0)
                && !HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect)) {
            // 100-continue was answered (and its header removed) by OrderedAggregator
            send(HttpReplies.error(HttpResponseStatus.EXPECTATION_FAILED, "unsupported Expect: " + expect
                    + " (expected: 100-continue)"), keepAlive);
            return;
        }
        // The key is taken from the raw path and percent-decoded once, here: a decoded path would
        // turn %2F into a separator and %2541 into %41 (decoded again: A) and + into a space.
        String path = new QueryStringDecoder(req.uri()).rawPath();
        if (!path.startsWith(PREFIX) || path.indexOf('/', PREFIX.length()) >= 0) {
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
        IngressUser user = users.anonymous();
        if (users.httpAuthRequired()) {
            String token = bearer(req.headers().get(HttpHeaderNames.AUTHORIZATION));
            user = token == null ? null : users.byToken(token);
            if (user == null) {
                if (token != null) {
                    metrics.authFailed();
                }
                FullHttpResponse r = HttpReplies.error(HttpResponseStatus.UNAUTHORIZED,
                        "missing or wrong bearer token (security.httpToken, security.users[].tokens)");
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
        String contentType = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "").toLowerCase(Locale.ROOT);
        byte[] key;
        List<byte[]> values;
        try {
            key = key(path.substring(PREFIX.length()));
            values = contentType.startsWith("application/x-ndjson") ? lines(req.content()) : single(req.content());
        } catch (BadInput e) {
            metrics.rejected(e.status.code() == 413 ? "too-large" : "bad-request", 1);
            send(HttpReplies.error(e.status, e.getMessage()), keepAlive);
            return;
        }
        int n = values.size();
        if (!user.allows(key)) {
            // refused whole, before anything is routed: nothing of it is written or spilled
            metrics.rejected("no-permission", n);
            send(HttpReplies.error(HttpResponseStatus.FORBIDDEN, "NOPERM user '" + user.name()
                    + "' has no permission to push to this key (security.users[].keys)"), keepAlive);
            return;
        }
        replies.completeLater(n, submit(router, Message.ListOp.RPUSH, key, values),
                err -> finish(err == null ? HttpReplies.json(HttpResponseStatus.OK, Map.of("accepted", n))
                        : refusal(err), keepAlive));
    }

    /**
     * 409 when Redis itself refused the message (the key holds another type): sending it again
     * cannot help, so no {@code Retry-After}. 500 for a fault of ours. Otherwise (the relay cannot
     * take messages now) 503 + {@code Retry-After}.
     */
    private FullHttpResponse refusal(Throwable err) {
        if (Rejections.isRedisRefusal(err)) {
            return HttpReplies.error(HttpResponseStatus.CONFLICT, Rejections.describe(err));
        }
        if (!(err instanceof RelayRejectedException)) {
            return HttpReplies.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, Rejections.describe(err));
        }
        FullHttpResponse r = HttpReplies.error(HttpResponseStatus.SERVICE_UNAVAILABLE, Rejections.describe(err));
        r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        return r;
    }

    /**
     * The list's key from its raw path segment, percent-decoded once into bytes: {@code %HH} is
     * that byte (keys are binary), any other character the byte it arrived as. An empty key is
     * refused: Redis takes {@code ""} as a key, but a path without one far more likely lost its
     * key on the producer's side than names that list.
     */
    private static byte[] key(String raw) throws BadInput {
        if (raw.isEmpty()) {
            throw new BadInput(HttpResponseStatus.BAD_REQUEST, "empty key: POST " + PREFIX
                    + "{key} names the list in the path");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = hi < 0 ? -1 : Character.digit(raw.charAt(i + 2), 16);
                if (lo < 0) {
                    throw new BadInput(HttpResponseStatus.BAD_REQUEST, "malformed percent-encoding in key at "
                            + i + ": '%' must be followed by two hex digits");
                }
                out.write(hi << 4 | lo);
                i += 2;
            } else if (c <= 0xFF) {
                out.write(c); // the request line arrives byte for byte, one char each
            } else {
                out.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    /** The token of an {@code Authorization: Bearer <token>} header, or null. */
    private static String bearer(String header) {
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return null;
        }
        String token = header.substring(7).trim();
        return token.isEmpty() ? null : token;
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

    /**
     * A decoder's complaint is answered 400 and anything else (a fault of ours) 500, after every
     * earlier answer; either way the connection then closes, since where the next request
     * starts is unknown. A failed connection is just closed: nobody is left to answer.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException || !ctx.channel().isActive()) {
            ctx.close();
        } else if (!replies.isClosing()) {
            Throwable root = cause.getCause() != null ? cause.getCause() : cause;
            if (cause instanceof DecoderException) {
                replies.replyAndClose(HttpReplies.error(HttpResponseStatus.BAD_REQUEST, "malformed request: "
                        + root.getMessage()));
            } else {
                LOG.warn("HTTP ingest connection {} failed; answering 500 and closing", ctx.channel(), cause);
                metrics.rejected("internal", 1);
                replies.replyAndClose(HttpReplies.error(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                        "internal error: " + root));
            }
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
