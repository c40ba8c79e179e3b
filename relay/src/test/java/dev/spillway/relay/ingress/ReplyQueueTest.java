package dev.spillway.relay.ingress;

import static dev.spillway.relay.ingress.ChannelSupport.output;
import static dev.spillway.relay.ingress.ChannelSupport.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.resp.RespInitializer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Backpressure across connections: the total in-flight bound shared by every listener. */
class ReplyQueueTest {

    private static final Limits LIMITS = new Limits(1024, 16 * 1024, 1000, 1024, 100, 4, 100, Duration.ofMinutes(5));

    private final InFlight inFlight = ChannelSupport.inFlight(LIMITS);

    private EmbeddedChannel connection(FakeIntake intake) {
        EmbeddedChannel ch = new EmbeddedChannel(new RespInitializer(new ListenerContext(intake, LIMITS, inFlight, ChannelSupport.metrics(),
                ChannelSupport.limiter(new ErrorRedisMessage("ERR too many"))), ChannelSupport.password(null), () -> ChannelSupport.STATUS));
        ch.freezeTime();
        return ch;
    }

    private static String rpush(String... values) {
        StringBuilder b = new StringBuilder("*").append(values.length + 2).append("\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n");
        for (String v : values) {
            b.append('$').append(v.length()).append("\r\n").append(v).append("\r\n");
        }
        return b.toString();
    }

    /** Lets time pass on the connection's event loop and runs whatever became due. */
    private static void later(EmbeddedChannel ch) {
        ch.advanceTimeBy(50, TimeUnit.MILLISECONDS);
        ch.runPendingTasks();
    }

    @Test
    void aConnectionPausedByTheTotalBoundResumesWhenOthersDrainEvenWithNothingOfItsOwnWaiting() {
        FakeIntake busy = new FakeIntake();
        FakeIntake quiet = new FakeIntake();
        EmbeddedChannel a = connection(busy);
        EmbeddedChannel b = connection(quiet);
        write(a, rpush("1", "2", "3", "4"));
        assertThat(a.config().isAutoRead()).as("the total bound is reached").isFalse();
        write(b, rpush("x"));
        assertThat(b.config().isAutoRead()).as("every connection stops reading at the total bound").isFalse();
        later(b); // b looks at the total while its own message is still waiting
        assertThat(b.config().isAutoRead()).isFalse();

        quiet.ackAll();
        assertThat(output(b)).isEqualTo(":1\r\n");
        later(b);
        assertThat(b.config().isAutoRead()).as("the others still hold the total at its bound").isFalse();

        busy.ackAll();
        assertThat(output(a)).isEqualTo(":4\r\n");
        assertThat(inFlight.total()).isZero();
        later(a);
        later(b);
        assertThat(a.config().isAutoRead()).isTrue();
        assertThat(b.config().isAutoRead()).as("b reads again though nothing of its own completed").isTrue();
        write(b, rpush("y"));
        assertThat(quiet.submissions).hasSize(2);
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
    }

    @Test
    void aConnectionHeldByTheTotalReadsAgainOnlyOnceTheTotalIsDownToHalfItsBound() {
        FakeIntake busy = new FakeIntake();
        FakeIntake quiet = new FakeIntake();
        EmbeddedChannel a = connection(busy);
        EmbeddedChannel b = connection(quiet);
        write(a, rpush("1") + rpush("2") + rpush("3") + rpush("4"));
        write(b, rpush("x"));
        quiet.ackAll();
        busy.submissions.get(0).ack().complete(null);
        later(b);
        assertThat(inFlight.total()).isEqualTo(3);
        assertThat(b.config().isAutoRead()).as("3 of 4: below the bound, above its resume mark").isFalse();
        busy.submissions.get(1).ack().complete(null);
        later(b);
        assertThat(b.config().isAutoRead()).as("2 of 4: the resume mark").isTrue();
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
    }

    @Test
    void aConnectionPausedByItsOwnBoundWhoseAcksAreDoneWaitsForTheTotalAndIsWokenByOthersAcks() {
        Limits limits = new Limits(1024, 16 * 1024, 1000, 1024, 2, 3, 100, Duration.ofMinutes(5));
        InFlight shared = ChannelSupport.inFlight(limits);
        FakeIntake busy = new FakeIntake();
        FakeIntake quiet = new FakeIntake();
        EmbeddedChannel a = new EmbeddedChannel(new RespInitializer(new ListenerContext(busy, limits, shared, ChannelSupport.metrics(),
                ChannelSupport.limiter(new ErrorRedisMessage("ERR too many"))), ChannelSupport.password(null), () -> ChannelSupport.STATUS));
        EmbeddedChannel b = new EmbeddedChannel(new RespInitializer(new ListenerContext(quiet, limits, shared, ChannelSupport.metrics(),
                ChannelSupport.limiter(new ErrorRedisMessage("ERR too many"))), ChannelSupport.password(null), () -> ChannelSupport.STATUS));
        write(b, rpush("x", "y"));
        assertThat(b.config().isAutoRead()).as("its own bound").isFalse();
        write(a, rpush("1", "2", "3"));
        assertThat(shared.total()).isEqualTo(5);
        quiet.ackAll();
        b.runPendingTasks();
        assertThat(b.config().isAutoRead()).as("its own acks are done, the total still holds it").isFalse();
        busy.ackAll();
        b.runPendingTasks();
        assertThat(b.config().isAutoRead()).as("woken by the other connection's acks").isTrue();
        a.finishAndReleaseAll();
        b.finishAndReleaseAll();
    }

    @Test
    void anOutcomeThatIsUnknownClosesTheConnectionWithoutAReplyAfterTheEarlierReplies() {
        FakeIntake intake = new FakeIntake();
        EmbeddedChannel ch = connection(intake);
        write(ch, rpush("a") + rpush("b") + rpush("c"));
        assertThat(intake.submissions).hasSize(3);
        intake.submissions.get(0).ack().complete(null);
        intake.submissions.get(1).ack().completeExceptionally(new dev.spillway.relay.route.RelayRejectedException(
                dev.spillway.relay.route.RelayRejectedException.Reason.OUTCOME_UNKNOWN, "spill log failed", null));
        intake.submissions.get(2).ack().complete(null);
        ch.runPendingTasks();
        assertThat(output(ch)).as("a's reply, then nothing: neither an error for b nor c's reply").isEqualTo(":1\r\n");
        assertThat(ch.isOpen()).as("closed, as a crash would").isFalse();
    }

    @Test
    void anAckSettledFromAnotherThreadIsWrittenBeforeACloseQueuedBehindIt() throws Exception {
        // a drain at its deadline: the last batch's acks reach the connection's event loop as tasks,
        // and the close of every connection is queued right behind them; the durable message's
        // reply must still reach the producer before the connection closes
        io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
                io.netty.channel.local.LocalIoHandler.newFactory());
        io.netty.channel.local.LocalAddress address = new io.netty.channel.local.LocalAddress("reply-queue-close-race");
        java.util.concurrent.CompletableFuture<Void> ack = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<io.netty.channel.Channel> served = new java.util.concurrent.CompletableFuture<>();
        StringBuffer received = new StringBuffer();
        java.util.concurrent.CountDownLatch clientClosed = new java.util.concurrent.CountDownLatch(1);
        try {
            new io.netty.bootstrap.ServerBootstrap().group(group).channel(io.netty.channel.local.LocalServerChannel.class)
                    .childHandler(new io.netty.channel.ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
                            ReplyQueue replies = new ReplyQueue(ctx, inFlight, ChannelSupport.metrics());
                            replies.completeLater(1, ack, err -> io.netty.buffer.Unpooled.copiedBuffer(":1\r\n",
                                    java.nio.charset.StandardCharsets.US_ASCII));
                            served.complete(ctx.channel());
                        }
                    }).bind(address).sync();
            io.netty.channel.Channel client = new io.netty.bootstrap.Bootstrap().group(group)
                    .channel(io.netty.channel.local.LocalChannel.class)
                    .handler(new io.netty.channel.ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                            io.netty.buffer.ByteBuf b = (io.netty.buffer.ByteBuf) msg;
                            received.append(b.toString(java.nio.charset.StandardCharsets.US_ASCII));
                            b.release();
                        }

                        @Override
                        public void channelInactive(io.netty.channel.ChannelHandlerContext ctx) {
                            clientClosed.countDown();
                        }
                    }).connect(address).sync().channel();
            io.netty.channel.Channel server = served.get(5, TimeUnit.SECONDS);
            java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            server.eventLoop().execute(() -> { // hold the event loop while the ack and the close queue up
                held.countDown();
                try {
                    release.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
            ack.complete(null); // on this thread: the settle becomes a task on the connection's loop
            server.close(); // queued behind it
            release.countDown();
            assertThat(clientClosed.await(5, TimeUnit.SECONDS)).as("the connection closed").isTrue();
            assertThat(received.toString()).as("the reply came before the close").isEqualTo(":1\r\n");
            client.close().sync();
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
