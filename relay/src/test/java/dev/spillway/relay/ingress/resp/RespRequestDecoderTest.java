package dev.spillway.relay.ingress.resp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.relay.config.Limits;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.redis.InlineCommandRedisMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The RESP request decoder on its own: commands whole however the bytes are cut, limits from headers. */
class RespRequestDecoderTest {

    private static final Limits LIMITS = new Limits(64, 256, 8, 32, 100, 4, 100, Duration.ofMinutes(5));

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new RespRequestDecoder(LIMITS));
    }

    private static List<String> read(EmbeddedChannel ch) {
        List<String> got = new ArrayList<>();
        Object m;
        while ((m = ch.readInbound()) != null) {
            if (m instanceof RespRequestDecoder.RespCommand c) {
                List<String> words = new ArrayList<>();
                c.args().forEach(a -> words.add(new String(a, StandardCharsets.UTF_8)));
                got.add(String.join(" ", words));
            } else {
                got.add("inline:" + ((InlineCommandRedisMessage) m).content());
            }
        }
        return got;
    }

    private static final String STREAM = "*3\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n"
            + "*1\r\n$4\r\nPING\r\n" + "PING hello\r\n" + "*0\r\n" + "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
    private static final List<String> COMMANDS = List.of("RPUSH k v\r\n", "PING", "inline:PING hello", "", "ECHO ");

    @Test
    void everyCutOfTheStreamGivesTheSameCommands() {
        byte[] bytes = STREAM.getBytes(StandardCharsets.UTF_8);
        for (int cut = 1; cut < bytes.length; cut++) {
            EmbeddedChannel ch = channel();
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, 0, cut));
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, cut, bytes.length - cut));
            assertThat(read(ch)).as("cut at %d", cut).containsExactlyElementsOf(COMMANDS);
            assertThat(ch.finish()).isFalse();
        }
        EmbeddedChannel ch = channel();
        for (byte b : bytes) { // a byte at a time
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        assertThat(read(ch)).containsExactlyElementsOf(COMMANDS);
    }

    @Test
    void aValueLongerThanTheLimitIsRefusedAtItsHeaderBeforeAnyContentCame() {
        EmbeddedChannel ch = channel();
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.copiedBuffer("*3\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n$65\r\n",
                StandardCharsets.US_ASCII))).isInstanceOf(TooLongFrameException.class)
                .hasMessageContaining("bulk length 65 exceeds limits.maxValueBytes 64");
        assertThatThrownBy(() -> channel().writeInbound(Unpooled.copiedBuffer("*9\r\n", StandardCharsets.US_ASCII)))
                .isInstanceOf(TooLongFrameException.class).hasMessageContaining("exceeds limits.maxMultibulk 8");
        assertThatThrownBy(() -> channel().writeInbound(Unpooled.copiedBuffer(
                "*6\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n" + ("$64\r\n" + "x".repeat(64) + "\r\n").repeat(3) + "$64\r\n",
                StandardCharsets.US_ASCII))).isInstanceOf(TooLongFrameException.class)
                .hasMessageContaining("exceeds limits.maxRequestBytes");
        assertThatThrownBy(() -> channel().writeInbound(Unpooled.copiedBuffer("x".repeat(40), StandardCharsets.US_ASCII)))
                .isInstanceOf(TooLongFrameException.class).hasMessageContaining("limits.maxInlineBytes");
    }

    @Test
    void whatIsNotACommandIsAProtocolErrorAndWhatFollowsIsDropped() {
        String[][] cases = {
            {"*1\r\n$-1\r\n", "a null bulk string"},
            {"*-1\r\n", "a null array"},
            {"*1\r\n*1\r\n$1\r\na\r\n", "a nested array"},
            {"*1\r\n:5\r\n", "an integer"},
            {":5\r\n", "an integer"},
            {"$3\r\nabc\r\n", "a bulk string"},
            {"*1\r\n$3\r\nabcd\r\n", "longer than its declared 3 bytes"},
            {"*1\r\n$99999999999999999999\r\n", "invalid length"},
            {"*x\r\n", "invalid length"},
            {"*-7\r\n", "invalid multibulk length"},
            {"*1\r\n$-5\r\n", "invalid bulk length"},
            {"PING\n", "CRLF"},
        };
        for (String[] c : cases) {
            EmbeddedChannel ch = channel();
            assertThatThrownBy(() -> ch.writeInbound(Unpooled.copiedBuffer(c[0], StandardCharsets.US_ASCII)))
                    .as(c[0]).isInstanceOf(DecoderException.class).hasMessageContaining(c[1]);
            ch.writeInbound(Unpooled.copiedBuffer("*1\r\n$4\r\nPING\r\n", StandardCharsets.US_ASCII));
            assertThat(read(ch)).as("after %s", c[0]).isEmpty();
        }
    }

    @Test
    void commandsBeforeABadOneAreDecodedFirst() {
        EmbeddedChannel ch = channel();
        assertThatThrownBy(() -> ch.writeInbound(Unpooled.copiedBuffer("*1\r\n$4\r\nPING\r\n*1\r\n:1\r\n",
                StandardCharsets.US_ASCII))).isInstanceOf(DecoderException.class);
        assertThat(read(ch)).containsExactly("PING");
    }
}
