package dev.spillway.relay.sink;

import static dev.spillway.relay.sink.SentinelResp.auth;
import static dev.spillway.relay.sink.SentinelResp.command;

import dev.spillway.relay.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisEncoder;
import io.netty.handler.codec.redis.RedisMessage;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Both connections to one Sentinel — events ({@link SentinelEventsHandler}) and view
 * ({@link SentinelPollHandler}) — kept up (reconnecting after a loss) and heartbeat; what they
 * hear goes to a {@link Listener}.
 *
 * <p>Confined to the watcher's event loop.
 */
final class SentinelLink {

    // logs under the watcher's name: operators filter the Sentinel view by one logger
    private static final Logger LOG = LoggerFactory.getLogger(SentinelWatcher.class);
    private static final long RECONNECT_MILLIS = 250;

    /** What the connections to a Sentinel report; called on the event loop. */
    interface Listener {

        /** The events connection is (re)established: whatever was published while it was down is lost. */
        void eventsConnected(String sentinel);

        /** A PONG on the events connection: every event published before it has been read. */
        void pong(SentinelLink link);

        /** An event from the Sentinel's pub/sub. */
        void event(String sentinel, String channel, String payload);

        /** A complete poll of the Sentinel's view. */
        void view(SentinelLink link, SentinelView view);

        /** A connection was lost. */
        void lost();
    }

    final String address;
    final String host;
    final int port;
    final SinkConfig config;
    final Listener listener;
    private final EventLoopGroup group;
    private final List<Channel> channels;
    private final BooleanSupplier closed;
    Channel events;
    Channel viewChannel;
    long lastPongNanos;
    long lastViewNanos;
    boolean answeredEvents;
    boolean answeredView;
    SentinelView view; // the last complete poll
    boolean warnedSubscribe; // a refused PSUBSCRIBE was logged, until one succeeds
    final ArrayDeque<Long> pollsSent = new ArrayDeque<>();

    /**
     * @param channels where every open connection is registered, so the watcher can close them
     * @param closed true once the watcher is closed: no more connecting
     */
    SentinelLink(String address, SinkConfig config, EventLoopGroup group, List<Channel> channels,
            BooleanSupplier closed, Listener listener) {
        this.address = address;
        int colon = address.lastIndexOf(':');
        this.host = address.substring(0, colon);
        this.port = Integer.parseInt(address.substring(colon + 1));
        this.config = config;
        this.group = group;
        this.channels = channels;
        this.closed = closed;
        this.listener = listener;
    }

    boolean answering(long now) {
        long timeout = config.sentinelTimeout().toNanos();
        return answeredEvents && answeredView && now - lastPongNanos <= timeout && now - lastViewNanos <= timeout;
    }

    void heartbeat(long now) {
        if (events != null && events.isActive()) {
            events.writeAndFlush(command("PING"));
        }
        if (viewChannel != null && viewChannel.isActive() && pollsSent.size() < 4) {
            // at most a few polls outstanding: a Sentinel that stopped answering is not flooded
            pollsSent.add(now);
            viewChannel.write(command("SENTINEL", "MASTER", config.masterName()));
            viewChannel.writeAndFlush(command("SENTINEL", "REPLICAS", config.masterName()));
        }
    }

    void connect(boolean forEvents) {
        if (closed.getAsBoolean()) {
            return;
        }
        new Bootstrap().group(group).channel(Transport.get().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (config.tls() != null) {
                            ch.pipeline().addLast(config.tls().newHandler(ch.alloc(), host, port));
                        }
                        ch.pipeline().addLast(new RedisDecoder(), new RedisBulkStringAggregator(),
                                new RedisArrayAggregator(), new RedisEncoder(),
                                forEvents ? new SentinelEventsHandler(SentinelLink.this)
                                        : new SentinelPollHandler(SentinelLink.this));
                    }
                })
                .connect(host, port)
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        LOG.debug("Sentinel {} unreachable: {}", address, f.cause().toString());
                        group.schedule(() -> connect(forEvents), RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
                    }
                });
    }

    /** One connection to the Sentinel (over TLS when configured): AUTH when a password is set, and a reconnect after a loss. */
    abstract static class Handler extends SimpleChannelInboundHandler<RedisMessage> {
        final SentinelLink link;
        boolean authPending;

        Handler(SentinelLink link) {
            this.link = link;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            link.channels.add(ctx.channel());
            ArrayRedisMessage auth = auth(link.config.sentinelUsername(), link.config.sentinelPassword());
            if (auth != null) {
                authPending = true;
                ctx.write(auth);
            }
            active(ctx);
        }

        abstract void active(ChannelHandlerContext ctx);

        abstract void inactive();

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            link.channels.remove(ctx.channel());
            inactive();
            link.listener.lost();
            if (!link.closed.getAsBoolean()) {
                LOG.debug("Lost Sentinel {}; reconnecting", link.address);
                ctx.channel().eventLoop().schedule(() -> link.connect(this instanceof SentinelEventsHandler),
                        RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("Sentinel {} connection failed: {}", link.address, cause.toString());
            ctx.close();
        }
    }
}
