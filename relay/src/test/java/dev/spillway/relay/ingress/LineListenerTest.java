package dev.spillway.relay.ingress;

import static dev.spillway.relay.ingress.ChannelSupport.output;
import static dev.spillway.relay.ingress.ChannelSupport.write;
import static dev.spillway.relay.ingress.ChannelSupport.writeByteByByte;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.line.LineInitializer;
import dev.spillway.relay.route.Intake;
import dev.spillway.relay.route.RelayRejectedException;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LineListenerTest {

    private final FakeIntake intake = new FakeIntake();

    private EmbeddedChannel channel(int maxLine) {
        return channel(intake, maxLine);
    }

    private static EmbeddedChannel channel(Intake intake, int maxLine) {
        Limits limits = ChannelSupport.limits(maxLine, 100);
        return new EmbeddedChannel(new LineInitializer(new ListenerContext(intake, limits, ChannelSupport.inFlight(limits), ChannelSupport.metrics(),
                ChannelSupport.limiter(Unpooled.EMPTY_BUFFER)), "data_queue"));
    }

    @Test
    void pushesEachLineToTheDefaultListAndAnswersOkInOrder() {
        EmbeddedChannel ch = channel(1024);
        writeByteByByte(ch, "first\nsecond\r\nthird\n");
        assertThat(intake.submissions).extracting(FakeIntake.Submission::key).containsOnly("data_queue");
        assertThat(intake.submissions).extracting(s -> s.values().get(0)).containsExactly("first", "second", "third");
        intake.submissions.get(2).ack().complete(null);
        assertThat(output(ch)).isEmpty();
        intake.ackAll();
        assertThat(output(ch)).isEqualTo("OK\nOK\nOK\n");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aHalfClosedClientGetsEveryAnswerThenTheConnectionCloses() {
        EmbeddedChannel ch = channel(1024);
        ch.writeInbound(Unpooled.copiedBuffer("one\ntwo\n", StandardCharsets.UTF_8));
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(ch.isOpen()).as("open until the answers are out").isTrue();
        intake.submissions.get(0).ack().complete(null);
        assertThat(ch.isOpen()).isTrue();
        intake.submissions.get(1).ack().complete(null);
        assertThat(output(ch)).isEqualTo("OK\nOK\n");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void keepsBinaryBytesOfALine() {
        EmbeddedChannel ch = channel(1024);
        ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {0, (byte) 0xff, 'a', 7, '\n'}));
        assertThat(intake.submissions.get(0).values().get(0)).isEqualTo(new String(new byte[] {0, (byte) 0xff, 'a', 7},
                java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    @Test
    void answersATooLongLineWithAnErrorAndCarriesOnAfterItsNewline() {
        EmbeddedChannel ch = channel(16);
        intake.autoAck = true;
        write(ch, "x".repeat(40)); // no newline yet: refused as soon as it passes the limit
        assertThat(output(ch)).startsWith("ERR line too long: more than 16 bytes (limits.maxValueBytes)");
        write(ch, "y".repeat(40) + "\nok line\n");
        assertThat(output(ch)).isEqualTo("OK\n");
        assertThat(intake.submissions).extracting(s -> s.values().get(0)).containsExactly("ok line");
        assertThat(ch.isActive()).isTrue();
    }

    @Test
    void answersARefusedLineWithItsReason() {
        EmbeddedChannel ch = channel(1024);
        write(ch, "a\n");
        intake.submissions.get(0).ack().completeExceptionally(new RelayRejectedException(
                RelayRejectedException.Reason.SHUTTING_DOWN, "relay is shutting down", null));
        assertThat(output(ch)).isEqualTo("ERR relay is shutting down; retry on another relay\n");
    }

    @Test
    void answersRedisOwnRefusalAfterErrAndCarriesOnWithTheNextLine() {
        EmbeddedChannel ch = channel(1024);
        write(ch, "a\nb\n");
        intake.submissions.get(0).ack().completeExceptionally(new RelayRejectedException(
                RelayRejectedException.Reason.REDIS_REFUSED, RespListenerTest.WRONGTYPE, null));
        intake.submissions.get(1).ack().complete(null);
        assertThat(output(ch)).isEqualTo("ERR " + RespListenerTest.WRONGTYPE + "\nOK\n");
        assertThat(ch.isActive()).isTrue();
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void aRouterThatThrowsRefusesThatLineAloneInItsTurn() {
        Intake throwing = (op, key, values) -> {
            if (new String(values.get(0), StandardCharsets.UTF_8).equals("boom")) {
                throw new IllegalStateException("cannot build it");
            }
            return intake.submit(op, key, values);
        };
        EmbeddedChannel ch = channel(throwing, 1024);
        write(ch, "a\nboom\nc\n");
        assertThat(output(ch)).isEmpty();
        intake.ackAll();
        assertThat(output(ch)).isEqualTo("OK\nERR internal error: java.lang.IllegalStateException: cannot build it\nOK\n");
        assertThat(ch.isActive()).isTrue();
    }

    @Test
    void anUnexpectedFailureIsAnsweredAfterEarlierAnswersBeforeTheConnectionCloses() {
        EmbeddedChannel ch = channel(1024);
        write(ch, "a\n");
        ch.pipeline().fireExceptionCaught(new IllegalStateException("a bug"));
        assertThat(ch.isActive()).as("still owes an answer").isTrue();
        intake.ackAll();
        assertThat(output(ch)).isEqualTo("OK\nERR internal error: java.lang.IllegalStateException: a bug\n");
        assertThat(ch.isActive()).isFalse();
    }
}
