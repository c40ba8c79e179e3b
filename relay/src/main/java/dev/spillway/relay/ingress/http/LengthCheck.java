package dev.spillway.relay.ingress.http;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;

/**
 * Notes, before {@code HttpObjectAggregator} fills in a {@code Content-Length}, whether the
 * client sent neither a length nor a chunked body, so the ingest handler can answer 411.
 * Any client-sent copy of the marker header is removed first. Sharable; stateless.
 */
@ChannelHandler.Sharable
final class LengthCheck extends ChannelInboundHandlerAdapter {

    static final String MISSING = "x-spillway-length-missing";
    static final LengthCheck INSTANCE = new LengthCheck();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof HttpRequest req) {
            req.headers().remove(MISSING);
            if (!HttpUtil.isContentLengthSet(req) && !HttpUtil.isTransferEncodingChunked(req)) {
                req.headers().set(MISSING, "true");
            }
        }
        ctx.fireChannelRead(msg);
    }
}
