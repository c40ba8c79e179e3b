package dev.spillway.relay.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.IntegerRedisMessage;
import io.netty.handler.codec.redis.RedisMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A Sentinel's events connection: its subscription confirmed, or refused (an ACL user without channels). */
class SentinelEventsHandlerTest {

    private final AtomicInteger pongs = new AtomicInteger();
    private final List<String> lost = new ArrayList<>();
    private final SentinelLink link = new SentinelLink("127.0.0.1:26379",
            SinkConfig.builder().sentinels(List.of("127.0.0.1:26379")).build(), null, new ArrayList<>(), () -> true,
            new SentinelLink.Listener() {
                @Override public void eventsConnected(String sentinel) {}
                @Override public void pong(SentinelLink l) { pongs.incrementAndGet(); }
                @Override public void event(String sentinel, String channel, String payload) {}
                @Override public void view(SentinelLink l, SentinelView view) {}
                @Override public void lost() { lost.add("lost"); }
            });

    @Test
    void aRefusedPsubscribeClosesTheConnectionRatherThanWaitingForPongsThatNeverCome() {
        EmbeddedChannel ch = new EmbeddedChannel(new SentinelEventsHandler(link));
        ch.writeInbound(new ErrorRedisMessage(
                "NOPERM this user has no permissions to access one of the channels used as arguments"));
        assertThat(ch.isActive()).isFalse();
        assertThat(lost).hasSize(1);
        assertThat(link.warnedSubscribe).isTrue();
    }

    @Test
    void aConfirmedSubscriptionCountsPongsAndKeepsTheConnection() {
        EmbeddedChannel ch = new EmbeddedChannel(new SentinelEventsHandler(link));
        ch.writeInbound(array(bulk("psubscribe"), bulk("*"), new IntegerRedisMessage(1)));
        ch.writeInbound(array(bulk("pong"), bulk("")));
        ch.writeInbound(new ErrorRedisMessage("ERR something else")); // logged, not fatal once subscribed
        assertThat(ch.isActive()).isTrue();
        assertThat(pongs).hasValue(1);
        assertThat(lost).isEmpty();
    }

    private static ArrayRedisMessage array(RedisMessage... parts) {
        return new ArrayRedisMessage(List.of(parts));
    }

    private static FullBulkStringRedisMessage bulk(String s) {
        return new FullBulkStringRedisMessage(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8));
    }
}
