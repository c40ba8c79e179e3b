package dev.spillway.relay.ingress.resp;

import dev.spillway.relay.config.Limits;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.redis.ArrayHeaderRedisMessage;
import io.netty.handler.codec.redis.BulkStringHeaderRedisMessage;
import io.netty.util.ReferenceCountUtil;

/**
 * Refuses a command the moment a header declares more than the limits allow — before any
 * bulk content is read or any element list allocated: more elements than
 * {@code limits.maxMultibulk}, a bulk string longer than {@code limits.maxValueBytes}, or bulk
 * strings adding up to more than {@code limits.maxRequestBytes}.
 *
 * <p>Sits between {@code RedisDecoder} and the aggregators. Not sharable (per-connection state).
 */
final class RespLimitGuard extends ChannelInboundHandlerAdapter {

    private final Limits limits;
    private long requestBytes;

    RespLimitGuard(Limits limits) {
        this.limits = limits;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ArrayHeaderRedisMessage h) {
            requestBytes = 0;
            if (h.length() > limits.maxMultibulk()) {
                ReferenceCountUtil.release(msg);
                throw new TooLongFrameException("multibulk length " + h.length() + " exceeds limits.maxMultibulk "
                        + limits.maxMultibulk());
            }
        } else if (msg instanceof BulkStringHeaderRedisMessage b) {
            int length = b.bulkStringLength();
            if (length > limits.maxValueBytes()) {
                ReferenceCountUtil.release(msg);
                throw new TooLongFrameException("bulk length " + length + " exceeds limits.maxValueBytes "
                        + limits.maxValueBytes());
            }
            requestBytes += Math.max(0, length);
            if (requestBytes > limits.maxRequestBytes()) {
                ReferenceCountUtil.release(msg);
                throw new TooLongFrameException("command of more than " + limits.maxRequestBytes()
                        + " bytes exceeds limits.maxRequestBytes");
            }
        }
        ctx.fireChannelRead(msg);
    }
}
