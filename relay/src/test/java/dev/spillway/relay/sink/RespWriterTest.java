package dev.spillway.relay.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** What {@link RespWriter} writes, read back by Netty's own decoder: the words, exactly. */
class RespWriterTest {

    private static List<List<String>> decoded(ByteBuf in) {
        EmbeddedChannel ch = new EmbeddedChannel(new RedisDecoder(true), new RedisBulkStringAggregator(),
                new RedisArrayAggregator());
        // fed a few bytes at a time, as a socket may deliver them
        while (in.isReadable()) {
            ch.writeInbound(in.readRetainedSlice(Math.min(7, in.readableBytes())));
        }
        in.release();
        List<List<String>> commands = new ArrayList<>();
        RedisMessage m;
        while ((m = ch.readInbound()) != null) {
            List<String> words = new ArrayList<>();
            for (RedisMessage w : ((ArrayRedisMessage) m).children()) {
                words.add(((FullBulkStringRedisMessage) w).content().toString(StandardCharsets.UTF_8));
            }
            io.netty.util.ReferenceCountUtil.release(m);
            commands.add(words);
        }
        assertThat(ch.finish()).as("nothing left over").isFalse();
        return commands;
    }

    @Test
    void wordsOfEveryKindComeBackAsWritten() {
        ByteBuf out = Unpooled.buffer();
        RespWriter.command(out, 6);
        RespWriter.word(out, "EVALSHA");
        RespWriter.word(out, new byte[0]);
        RespWriter.word(out, 0);
        RespWriter.word(out, -42);
        RespWriter.word(out, Long.MAX_VALUE);
        RespWriter.word(out, "line\r\nbreak and ünïcode".getBytes(StandardCharsets.UTF_8));
        RespWriter.command(out, "INFO", "server");
        RespWriter.command(out, 1);
        RespWriter.word(out, Long.MIN_VALUE);
        assertThat(decoded(out)).containsExactly(
                List.of("EVALSHA", "", "0", "-42", Long.toString(Long.MAX_VALUE), "line\r\nbreak and ünïcode"),
                List.of("INFO", "server"), List.of(Long.toString(Long.MIN_VALUE)));
    }

    @Test
    void numbersOfEveryLengthAndTheirSizesAgree() {
        Random random = new Random(7);
        ByteBuf out = Unpooled.buffer();
        List<String> expected = new ArrayList<>();
        RespWriter.command(out, 200);
        for (int i = 0; i < 100; i++) {
            long v = i < 19 ? (long) Math.pow(10, i) - 1 : random.nextLong();
            RespWriter.word(out, v);
            expected.add(Long.toString(v));
            byte[] value = new byte[random.nextInt(300)];
            for (int k = 0; k < value.length; k++) {
                value[k] = (byte) (' ' + random.nextInt(95)); // printable ASCII, CR and LF among them below
            }
            if (value.length > 2) {
                value[0] = '\r';
                value[1] = '\n';
            }
            int before = out.writerIndex();
            RespWriter.word(out, value);
            assertThat(out.writerIndex() - before).isEqualTo(RespWriter.wordBytes(value.length));
            expected.add(new String(value, StandardCharsets.UTF_8));
        }
        assertThat(decoded(out)).containsExactly(expected);
    }
}
