package dev.spillway.relay.sink;

import static dev.spillway.relay.sink.SentinelResp.auth;
import static dev.spillway.relay.sink.SentinelResp.command;
import static dev.spillway.relay.sink.SentinelResp.text;

import dev.spillway.relay.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisEncoder;
import io.netty.handler.codec.redis.RedisMessage;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A new master's run id, before the Sentinels have it. A Sentinel learns a promoted master's run
 * id only from its next {@code INFO}, seconds after {@code +switch-master}; the write script's
 * fence needs it now. Asking the node the majority names is as good: the fence only has to tell
 * that node from any other.
 *
 * <p>Confined to the watcher's event loop.
 */
final class RunIdProbe {

    // logs under the watcher's name: operators filter the Sentinel view by one logger
    private static final Logger LOG = LoggerFactory.getLogger(SentinelWatcher.class);

    private final SinkConfig config;
    private final EventLoopGroup group;
    private final LongSupplier clock;
    private final BooleanSupplier closed;
    private final Runnable answered;
    private String probedAddress;
    private String probedRunId;
    private long probedAtNanos;
    private boolean probing;

    /** {@code answered} runs on the event loop after each reply to a probe. */
    RunIdProbe(SinkConfig config, EventLoopGroup group, LongSupplier clock, BooleanSupplier closed,
            Runnable answered) {
        this.config = config;
        this.group = group;
        this.clock = clock;
        this.closed = closed;
        this.answered = answered;
    }

    /**
     * The run id of {@code address} as the node itself said after {@code lastTroubleNanos}, or
     * null (and a probe is started).
     */
    String runId(String address, long lastTroubleNanos) {
        if (address.equals(probedAddress) && probedRunId != null && probedAtNanos - lastTroubleNanos >= 0) {
            return probedRunId;
        }
        if (!probing && !closed.getAsBoolean() && address.indexOf(':') > 0) {
            probing = true;
            long sentAt = clock.getAsLong();
            int colon = address.lastIndexOf(':');
            String host = address.substring(0, colon);
            int port = Integer.parseInt(address.substring(colon + 1));
            new Bootstrap().group(group).channel(Transport.get().socketChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (config.tls() != null) {
                                ch.pipeline().addLast(config.tls().newHandler(ch.alloc(), host, port));
                            }
                            ch.pipeline().addLast(new ReadTimeoutHandler(
                                    config.sentinelTimeout().toMillis(), TimeUnit.MILLISECONDS),
                                    new RedisDecoder(), new RedisBulkStringAggregator(), new RedisArrayAggregator(),
                                    new RedisEncoder(), new InfoHandler(address, sentAt));
                        }
                    })
                    .connect(host, port)
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            probing = false;
                        }
                    });
        }
        return null;
    }

    /** AUTH (when a password is set), {@code INFO server}, read {@code run_id}, close. */
    private final class InfoHandler extends SimpleChannelInboundHandler<RedisMessage> {
        private final String address;
        private final long sentAt;
        private boolean authPending;

        InfoHandler(String address, long sentAt) {
            this.address = address;
            this.sentAt = sentAt;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ArrayRedisMessage auth = auth(config.username(), config.password());
            if (auth != null) {
                authPending = true;
                ctx.write(auth);
            }
            ctx.writeAndFlush(command("INFO", "server"));
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RedisMessage msg) {
            if (authPending) {
                authPending = false;
                if (msg instanceof ErrorRedisMessage err) {
                    LOG.warn("Redis node {} refused AUTH: {}", address, err.content());
                }
                return;
            }
            String info = text(msg);
            if (info != null) {
                for (String line : info.split("\r?\n")) {
                    if (line.startsWith("run_id:")) {
                        probedAddress = address;
                        probedRunId = line.substring(7).trim();
                        probedAtNanos = sentAt;
                    }
                }
            }
            ctx.close();
            answered.run();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            probing = false;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
