package dev.spillway.relay.ingress.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpExpectationFailedEvent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;

/**
 * An {@link HttpObjectAggregator} whose refusals leave in request order. Netty's own writes its
 * 413 (body larger than {@code limits.maxRequestBytes}) and 417 (an {@code Expect} other than
 * {@code 100-continue}) straight to the socket: ahead of the answers still owed to earlier
 * pipelined requests — a client matching answers to requests in order would take the 413 for an
 * earlier request — and, where it then closes the connection, instead of them.
 *
 * <p>Here an oversized request goes on to the ingest handler as a body-less stand-in whose
 * {@link DecoderResult} fails with {@link TooLarge}, so the handler answers 413 in its turn
 * (closing afterwards exactly when Netty would: a body already partly read, or neither
 * keep-alive nor {@code 100-continue}); its body is discarded. A request with an unsupported
 * {@code Expect} is aggregated like any other and refused by the handler (417), also in turn.
 * {@code 100 Continue} is still sent at once: it is an interim answer the client waits for
 * before it sends the body.
 *
 * <p>Not sharable (per-connection state, as its superclass).
 */
final class OrderedAggregator extends HttpObjectAggregator {

    /** The failure on an oversized request's stand-in. */
    static final class TooLarge extends TooLongFrameException {
        TooLarge(String message) {
            super(message);
        }
    }

    private final int maxContentLength;

    OrderedAggregator(int maxContentLength) {
        super(maxContentLength);
        this.maxContentLength = maxContentLength;
    }

    @Override
    protected Object newContinueResponse(HttpMessage start, int maxContentLength, ChannelPipeline pipeline) {
        if (HttpUtil.is100ContinueExpected(start) && HttpUtil.getContentLength(start, -1L) <= maxContentLength) {
            start.headers().remove(HttpHeaderNames.EXPECT);
            return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER);
        }
        return null; // too large: handleOversizedMessage, next; another expectation: the ingest handler's 417
    }

    @Override
    protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) throws Exception {
        if (!(oversized instanceof HttpRequest req)) {
            super.handleOversizedMessage(ctx, oversized);
            return;
        }
        boolean bodyStarted = oversized instanceof FullHttpMessage;
        boolean expectsContinue = HttpUtil.is100ContinueExpected(req);
        boolean close = bodyStarted || !expectsContinue && !HttpUtil.isKeepAlive(req);
        if (expectsContinue && !bodyStarted) {
            // the client waits for 100 Continue and will not send the body: read what follows as
            // the next request (Netty's decoder resets on this event)
            ctx.pipeline().fireUserEventTriggered(HttpExpectationFailedEvent.INSTANCE);
        }
        DefaultFullHttpRequest standIn = new DefaultFullHttpRequest(req.protocolVersion(), req.method(), req.uri(),
                Unpooled.EMPTY_BUFFER);
        standIn.headers().set(req.headers());
        HttpUtil.setKeepAlive(standIn, !close);
        standIn.setDecoderResult(DecoderResult.failure(new TooLarge((bodyStarted ? "body" : "Content-Length "
                + HttpUtil.getContentLength(req, -1L)) + " exceeds limits.maxRequestBytes " + maxContentLength)));
        ctx.fireChannelRead(standIn);
    }
}
