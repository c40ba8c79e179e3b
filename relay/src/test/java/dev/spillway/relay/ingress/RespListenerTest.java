package dev.spillway.relay.ingress;

import static dev.spillway.relay.ingress.ChannelSupport.output;
import static dev.spillway.relay.ingress.ChannelSupport.write;
import static dev.spillway.relay.ingress.ChannelSupport.writeByteByByte;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.Message;
import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.resp.RespInitializer;
import dev.spillway.relay.route.Intake;
import dev.spillway.relay.route.RelayRejectedException;
import dev.spillway.relay.spill.SpillFullException;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RespListenerTest {

    static final String WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

    private final FakeIntake intake = new FakeIntake();

    private EmbeddedChannel channel(Limits limits, String password) {
        return channel(intake, limits, password);
    }

    private static EmbeddedChannel channel(Intake intake, Limits limits, String password) {
        return new EmbeddedChannel(new RespInitializer(new ListenerContext(intake, limits, ChannelSupport.inFlight(limits), ChannelSupport.metrics(),
                ChannelSupport.limiter(new ErrorRedisMessage("ERR too many"))), ChannelSupport.password(password), () -> ChannelSupport.STATUS));
    }

    private EmbeddedChannel channel() {
        return channel(ChannelSupport.limits(1024, 100), null);
    }

    private static String cmd(String... parts) {
        StringBuilder b = new StringBuilder("*").append(parts.length).append("\r\n");
        for (String p : parts) {
            b.append('$').append(p.length()).append("\r\n").append(p).append("\r\n");
        }
        return b.toString();
    }

    @Test
    void answersPipelinedCommandsInOrderEachOnlyOnceDurable() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("RPUSH", "q", "a", "b") + cmd("PING") + cmd("LPUSH", "q", "c"));
        assertThat(intake.submissions).hasSize(2);
        assertThat(intake.submissions.get(0).values()).containsExactly("a", "b");
        assertThat(intake.submissions.get(1).op()).isEqualTo(Message.ListOp.LPUSH);
        assertThat(output(ch)).as("nothing before the first RPUSH is durable").isEmpty();
        intake.submissions.get(1).ack().complete(null);
        assertThat(output(ch)).as("a later ack waits for the earlier one").isEmpty();
        intake.submissions.get(0).ack().complete(null);
        assertThat(output(ch)).isEqualTo(":2\r\n+PONG\r\n:1\r\n");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void acksThatBecomeReadyTogetherLeaveInOneWrite() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("RPUSH", "q", "a") + cmd("RPUSH", "q", "b", "c") + cmd("RPUSH", "q", "d"));
        intake.submissions.get(2).ack().complete(null);
        intake.submissions.get(1).ack().complete(null);
        ch.runPendingTasks();
        assertThat(ch.outboundMessages()).isEmpty();
        intake.submissions.get(0).ack().complete(null);
        ch.runPendingTasks(); // the flush waits until the event loop is done settling
        assertThat(ch.outboundMessages()).as("three acks, one buffer").hasSize(1);
        assertThat(output(ch)).isEqualTo(":1\r\n:2\r\n:1\r\n");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void acksSettledInOrderByOneBatchLeaveInOneWrite() {
        // a batch's completion settles a pipelining connection's requests one after another, in
        // order: their replies must not each take a write (a system call) of their own
        EmbeddedChannel ch = channel();
        StringBuilder requests = new StringBuilder();
        for (int i = 0; i < 40; i++) { // below the connection's in-flight bound (50 here)
            requests.append(cmd("RPUSH", "q", "v" + i));
        }
        write(ch, requests.toString());
        assertThat(intake.submissions).hasSize(40);
        for (var submission : intake.submissions) {
            submission.ack().complete(null);
        }
        ch.runPendingTasks();
        assertThat(ch.outboundMessages()).as("40 acks, one buffer").hasSize(1);
        assertThat(output(ch)).isEqualTo(":1\r\n".repeat(40));
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void takesEmptyValuesAndKeysLikeRedisDoes() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("RPUSH", "q", "", "x", "") + cmd("RPUSH", "", "v") + cmd("LPUSH", "", "", ""));
        assertThat(intake.submissions).hasSize(3);
        assertThat(intake.submissions.get(0).values()).containsExactly("", "x", "");
        assertThat(intake.submissions.get(1).key()).isEmpty();
        assertThat(intake.submissions.get(2).key()).isEmpty();
        assertThat(intake.submissions.get(2).values()).containsExactly("", "");
        intake.ackAll();
        assertThat(output(ch)).isEqualTo(":3\r\n:1\r\n:2\r\n");
        write(ch, "*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$-1\r\n");
        assertThat(output(ch)).startsWith("-ERR Protocol error: expected a command as an array of bulk strings, got a null");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void splitsInlineCommandsOnQuotesAndEscapesLikeRedis() {
        EmbeddedChannel ch = channel();
        intake.autoAck = true;
        write(ch, "RPUSH \"\" v\r\n"
                + "RPUSH \"my list\" \"a\\x00b\\n\" 'it\\'s' \t plain\r\n"
                + "LPUSH ''  \"\"\r\n");
        assertThat(intake.submissions).extracting(FakeIntake.Submission::key).containsExactly("", "my list", "");
        assertThat(intake.submissions.get(0).values()).containsExactly("v");
        assertThat(intake.submissions.get(1).values()).containsExactly("a\u0000b\n", "it's", "plain");
        assertThat(intake.submissions.get(2).values()).containsExactly("");
        assertThat(output(ch)).isEqualTo(":1\r\n:3\r\n:1\r\n");
    }

    @Test
    void answersUnbalancedInlineQuotesWithRedisProtocolErrorAfterEarlierReplies() {
        for (String bad : List.of("RPUSH \"q v\r\n", "RPUSH 'q v\r\n", "RPUSH \"q\"x v\r\n")) {
            EmbeddedChannel ch = channel();
            write(ch, "PING\r\n" + bad + "PING\r\n");
            assertThat(output(ch)).as(bad).isEqualTo("+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n");
            assertThat(ch.isActive()).isFalse();
            ch.finishAndReleaseAll();
        }
        assertThat(intake.submissions).isEmpty();
    }

    @Test
    void aRouterThatThrowsRefusesThatCommandAloneInItsTurn() {
        Intake throwing = (op, key, values) -> {
            if (new String(key, StandardCharsets.UTF_8).equals("boom")) {
                throw new IllegalStateException("cannot build it");
            }
            return intake.submit(op, key, values);
        };
        EmbeddedChannel ch = channel(throwing, ChannelSupport.limits(1024, 100), null);
        write(ch, cmd("RPUSH", "q", "a") + cmd("RPUSH", "boom", "b") + cmd("RPUSH", "q", "c"));
        assertThat(output(ch)).as("the throw waits for the earlier command's ack").isEmpty();
        intake.ackAll();
        assertThat(output(ch)).isEqualTo(":1\r\n-ERR internal error: java.lang.IllegalStateException: cannot build it\r\n"
                + ":1\r\n");
        assertThat(ch.isActive()).isTrue();
    }

    @Test
    void anUnexpectedFailureIsAnsweredAfterEarlierRepliesBeforeTheConnectionCloses() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("RPUSH", "q", "a"));
        ch.pipeline().fireExceptionCaught(new IllegalStateException("a bug"));
        assertThat(ch.isActive()).as("still owes a reply").isTrue();
        intake.ackAll();
        assertThat(output(ch)).isEqualTo(":1\r\n-ERR internal error: java.lang.IllegalStateException: a bug\r\n");
        assertThat(ch.isActive()).isFalse();
    }

    @Test
    void decodesCommandsDeliveredOneByteAtATime() {
        EmbeddedChannel ch = channel();
        intake.autoAck = true;
        writeByteByByte(ch, cmd("RPUSH", "data_queue", "hello world") + "PING\r\n");
        assertThat(intake.submissions).hasSize(1);
        assertThat(intake.submissions.get(0).key()).isEqualTo("data_queue");
        assertThat(intake.submissions.get(0).values()).containsExactly("hello world");
        assertThat(output(ch)).isEqualTo(":1\r\n+PONG\r\n");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void answersTheCommandsClientsSendOnConnect() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("COMMAND", "DOCS") + cmd("CLIENT", "SETINFO", "lib-name", "jedis") + cmd("CLIENT", "SETNAME", "p1")
                + cmd("CLIENT", "GETNAME") + cmd("SELECT", "0") + cmd("CONFIG", "GET", "save") + cmd("ECHO", "hi")
                + cmd("HELLO", "3") + cmd("SELECT", "1"));
        assertThat(output(ch)).isEqualTo("*0\r\n+OK\r\n+OK\r\n$2\r\np1\r\n+OK\r\n*0\r\n$2\r\nhi\r\n"
                + "-NOPROTO sorry, Spillway speaks RESP2 only\r\n"
                + "-ERR Spillway writes to database 0 only (SELECT 0)\r\n");
        write(ch, cmd("HELLO", "2"));
        assertThat(output(ch)).startsWith("*14\r\n$6\r\nserver\r\n$8\r\nspillway\r\n");
        write(ch, cmd("INFO"));
        assertThat(output(ch)).contains("relay_mode:DIRECT").contains("spill_pending_messages:0").contains("loading:0");
    }

    @Test
    void refusesUnknownCommandsAndMissingValuesNamingWhatIsAccepted() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("GET", "q") + cmd("RPUSH", "q") + "flushall now\r\n");
        String out = output(ch);
        assertThat(out).contains("-ERR unknown command 'GET'; Spillway accepts RPUSH, LPUSH")
                .contains("-ERR wrong number of arguments for 'rpush' command")
                .contains("-ERR unknown command 'flushall'");
        assertThat(intake.submissions).isEmpty();
        assertThat(ch.isActive()).as("a clean error keeps the connection").isTrue();
    }

    @Test
    void passesTheRefusalReasonToTheProducer() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("RPUSH", "q", "a"));
        intake.submissions.get(0).ack().completeExceptionally(new RelayRejectedException(
                RelayRejectedException.Reason.SPILL_FULL, new SpillFullException(100, 90, 20).getMessage(), null));
        assertThat(output(ch)).startsWith("-BUSY spill log full: 90 of 100 bytes pending").endsWith("\r\n");
    }

    @Test
    void passesRedisOwnRefusalOnVerbatimAndAnswersLaterPipelinedCommandsNormally() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("RPUSH", "h", "a") + cmd("PING") + cmd("RPUSH", "q", "b"));
        intake.submissions.get(0).ack().completeExceptionally(new RelayRejectedException(
                RelayRejectedException.Reason.REDIS_REFUSED, WRONGTYPE, null));
        intake.submissions.get(1).ack().complete(null);
        assertThat(output(ch)).isEqualTo("-" + WRONGTYPE + "\r\n+PONG\r\n:1\r\n");
        assertThat(ch.isActive()).as("a refusal keeps the connection").isTrue();
        write(ch, cmd("RPUSH", "q", "c"));
        intake.submissions.get(2).ack().complete(null);
        assertThat(output(ch)).isEqualTo(":1\r\n");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void putsErrInFrontOfARedisRefusalThatCarriesNoErrorCode() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("RPUSH", "h", "a") + cmd("RPUSH", "h", "b"));
        intake.submissions.get(0).ack().completeExceptionally(new RelayRejectedException(
                RelayRejectedException.Reason.REDIS_REFUSED, "refused for a reason of its own", null));
        intake.submissions.get(1).ack().completeExceptionally(new RelayRejectedException(
                RelayRejectedException.Reason.REDIS_REFUSED, null, null));
        assertThat(output(ch)).isEqualTo("-ERR refused for a reason of its own\r\n-ERR Redis refused the message\r\n");
    }

    @Test
    void requiresAuthWhenAPasswordIsSet() {
        EmbeddedChannel ch = channel(ChannelSupport.limits(1024, 100), "s3cret");
        write(ch, cmd("RPUSH", "q", "a") + cmd("AUTH", "wrong") + cmd("AUTH", "s3cret") + cmd("PING"));
        assertThat(output(ch)).isEqualTo("-NOAUTH Authentication required.\r\n"
                + "-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+PONG\r\n");
        assertThat(intake.submissions).isEmpty();
    }

    @Test
    void stopsReadingAtThePerConnectionBoundAndResumesAfterAcks() {
        EmbeddedChannel ch = channel(ChannelSupport.limits(1024, 4), null);
        write(ch, cmd("RPUSH", "q", "1", "2") + cmd("RPUSH", "q", "3", "4"));
        assertThat(ch.config().isAutoRead()).isFalse();
        intake.ackAll();
        ch.runPendingTasks();
        assertThat(ch.config().isAutoRead()).isTrue();
        assertThat(output(ch)).isEqualTo(":2\r\n:2\r\n");
    }

    @Test
    void stopsReadingFromAClientThatDoesNotReadItsReplies() {
        EmbeddedChannel ch = channel();
        ch.config().setWriteBufferWaterMark(new io.netty.channel.WriteBufferWaterMark(8, 16));
        intake.autoAck = true;
        // EmbeddedChannel never drains its outbound buffer unless flushed out by the test, so the
        // replies pile up as they would toward a client that stopped reading.
        ch.unsafe().outboundBuffer().addMessage(Unpooled.wrappedBuffer(new byte[64]), 64, ch.newPromise());
        ch.runPendingTasks();
        assertThat(ch.isWritable()).isFalse();
        assertThat(ch.config().isAutoRead()).as("not reading while replies cannot leave").isFalse();
        ch.flushOutbound(); // the client reads again
        ch.runPendingTasks();
        assertThat(ch.isWritable()).isTrue();
        assertThat(ch.config().isAutoRead()).isTrue();
        ch.finishAndReleaseAll();
    }

    @Test
    void closesOnGarbageWithAProtocolError() {
        assertProtocolError("*abc\r\n", "Protocol error");
        assertProtocolError("$-5\r\n", "Protocol error");
        assertProtocolError("*-7\r\n", "Protocol error");
        assertProtocolError("*1\r\n:5\r\n", "expected a command");
        assertProtocolError("*-1\r\n", "expected a command");
        assertProtocolError("*1\r\n*1\r\n$1\r\na\r\n", "Protocol error");
        assertProtocolError("*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$10\r\nshort\r\n*1\r\n$4\r\nPING\r\n", "Protocol error");
        assertProtocolError("x".repeat(2000), "Protocol error"); // inline junk past limits.maxInlineBytes
    }

    @Test
    void refusesHugeLengthsBeforeAllocatingAnything() {
        assertProtocolError("*2000000000\r\n", "limits.maxMultibulk");
        assertProtocolError("*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$67108864\r\n" + "x".repeat(100), "limits.maxValueBytes");
        assertProtocolError("*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$99999999999\r\n", "Protocol error");
    }

    @Test
    void aDrainAnswersWhatWasTakenThenClosesWithoutReadingMore() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("RPUSH", "q", "a"));
        ch.attr(ReplyQueue.KEY).get().closeWhenDone();
        assertThat(ch.config().isAutoRead()).isFalse();
        assertThat(ch.isActive()).as("still owes a reply").isTrue();
        intake.ackAll();
        assertThat(output(ch)).isEqualTo(":1\r\n");
        assertThat(ch.isActive()).isFalse();
    }

    @Test
    void quitAnswersOkAndCloses() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("QUIT") + cmd("RPUSH", "q", "ignored"));
        assertThat(output(ch)).isEqualTo("+OK\r\n");
        assertThat(ch.isActive()).isFalse();
        assertThat(intake.submissions).isEmpty();
    }

    @Test
    void answersEarlierCommandsBeforeTheProtocolErrorThatCloses() {
        EmbeddedChannel ch = channel();
        write(ch, cmd("RPUSH", "q", "a") + "*zz\r\n");
        assertThat(output(ch)).isEmpty();
        intake.ackAll();
        String out = output(ch);
        assertThat(out).startsWith(":1\r\n-ERR Protocol error");
        assertThat(ch.isActive()).isFalse();
    }

    private void assertProtocolError(String input, String expected) {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.copiedBuffer(input, java.nio.charset.StandardCharsets.ISO_8859_1));
        String out = output(ch);
        assertThat(out).as("reply to %s", List.of(input.length() > 60 ? input.substring(0, 60) : input))
                .startsWith("-ERR").contains(expected);
        assertThat(ch.isActive()).as("closed after %s", input.length() > 60 ? input.substring(0, 60) : input)
                .isFalse();
        assertThat(intake.submissions).isEmpty();
        ch.finishAndReleaseAll();
    }
}
