package dev.spillway.relay.sink;

import static dev.spillway.relay.sink.SentinelResp.command;
import static dev.spillway.relay.sink.SentinelResp.text;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.RedisMessage;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Sentinel's events connection: {@code PSUBSCRIBE *} and the heartbeat's PINGs; every event
 * is read in order before the PONG that follows it.
 *
 * <p>One per connection; confined to the watcher's event loop.
 */
final class SentinelEventsHandler extends SentinelLink.Handler {

    // logs under the watcher's name: operators filter the Sentinel view by one logger
    private static final Logger LOG = LoggerFactory.getLogger(SentinelWatcher.class);

    private boolean subscribed; // PSUBSCRIBE * confirmed on this connection

    SentinelEventsHandler(SentinelLink link) {
        super(link);
    }

    @Override
    void active(ChannelHandlerContext ctx) {
        link.events = ctx.channel();
        ctx.writeAndFlush(command("PSUBSCRIBE", "*"));
        link.listener.eventsConnected(link.address);
    }

    @Override
    void inactive() {
        link.events = null;
        link.answeredEvents = false;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, RedisMessage msg) {
        if (msg instanceof ErrorRedisMessage err) {
            if (authPending) {
                LOG.warn("Sentinel {} refused AUTH: {}", link.address, err.content());
                authPending = false;
                return;
            }
            if (!subscribed) {
                // PSUBSCRIBE refused (an ACL user without channels): this connection would never hear an
                // event or a PONG, so the Sentinel could never count; closed, and retried like a lost one
                if (!link.warnedSubscribe) {
                    link.warnedSubscribe = true;
                    LOG.warn("Sentinel {} refused PSUBSCRIBE *: {} — the relay's Sentinel user needs every channel "
                            + "(&*); until then this Sentinel does not count towards the write gate", link.address,
                            err.content());
                }
                ctx.close();
                return;
            }
            LOG.warn("Sentinel {} answered: {}", link.address, err.content());
            return;
        }
        if (authPending) {
            authPending = false;
            return;
        }
        if (!(msg instanceof ArrayRedisMessage arr) || arr.children().isEmpty()) {
            return;
        }
        List<RedisMessage> parts = arr.children();
        String kind = text(parts.get(0));
        if ("psubscribe".equalsIgnoreCase(kind)) {
            subscribed = true;
            link.warnedSubscribe = false;
        } else if ("pong".equalsIgnoreCase(kind)) {
            link.listener.pong(link);
        } else if ("pmessage".equals(kind) && parts.size() == 4) {
            String channel = text(parts.get(2));
            String payload = text(parts.get(3));
            if (channel != null && payload != null) {
                link.listener.event(link.address, channel, payload);
            }
        }
    }
}
