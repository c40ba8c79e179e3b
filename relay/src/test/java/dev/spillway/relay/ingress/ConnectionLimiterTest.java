package dev.spillway.relay.ingress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.line.LineInitializer;
import dev.spillway.relay.ingress.resp.RespInitializer;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ConnectionLimiterTest {

    private final Limits limits = ChannelSupport.limits(1024, 100);

    @Test
    void refusesTheConnectionPastTheLimitInTheListenersOwnProtocol() {
        AtomicInteger open = new AtomicInteger();
        ConnectionLimiter limiter = new ConnectionLimiter(open, new DefaultChannelGroup(GlobalEventExecutor.INSTANCE),
                1, new com.codahale.metrics.Meter(), why -> new ErrorRedisMessage("ERR " + why));
        EmbeddedChannel first = new EmbeddedChannel(new RespInitializer(new ListenerContext(new FakeIntake(), limits,
                ChannelSupport.inFlight(limits), ChannelSupport.metrics(), limiter), ChannelSupport.password(null), () -> ChannelSupport.STATUS));
        assertThat(ChannelSupport.output(first)).isEmpty();
        assertThat(first.isActive()).isTrue();

        EmbeddedChannel second = new EmbeddedChannel(new RespInitializer(new ListenerContext(new FakeIntake(), limits,
                ChannelSupport.inFlight(limits), ChannelSupport.metrics(), limiter), ChannelSupport.password(null), () -> ChannelSupport.STATUS));
        assertThat(ChannelSupport.output(second)).isEqualTo("-ERR too many connections (limits.maxConnections=1)\r\n");
        assertThat(second.isActive()).isFalse();
        assertThat(open.get()).as("the refused one no longer counts").isEqualTo(1);

        first.close();
        assertThat(open.get()).isZero();
    }

    @Test
    void refusesLineConnectionsWithAnErrLine() {
        ConnectionLimiter limiter = new ConnectionLimiter(new AtomicInteger(1),
                new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), 1, new com.codahale.metrics.Meter(),
                why -> Unpooled.copiedBuffer("ERR " + why + "\n", StandardCharsets.UTF_8));
        EmbeddedChannel ch = new EmbeddedChannel(new LineInitializer(new ListenerContext(new FakeIntake(), limits,
                ChannelSupport.inFlight(limits), ChannelSupport.metrics(), limiter), "q"));
        assertThat(ChannelSupport.output(ch)).isEqualTo("ERR too many connections (limits.maxConnections=1)\n");
    }
}
