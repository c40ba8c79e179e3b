package dev.spillway.relay.route;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.sink.WriteGateException;
import dev.spillway.relay.sink.WriteResult;
import dev.spillway.relay.spill.SpillLog;
import dev.spillway.relay.spill.SpillLogConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router's state machine against a fake sink and a real spill log: direct → spill →
 * replay → direct, the unknown-outcome rule, Redis's refusals, and all-or-nothing requests.
 */
class RouterTest {

    @TempDir
    Path dir;

    private final FakeSink sink = new FakeSink();
    private SpillLog spill;
    private Router router;

    private Router open(SinkConfig config, SpillLogConfig.Builder spillConfig) throws Exception {
        spill = SpillLog.open(spillConfig.build(), new MetricRegistry());
        router = new Router(sink, spill, config, new MetricRegistry());
        return router;
    }

    private Router open() throws Exception {
        return open(SinkConfig.builder().build(), SpillLogConfig.builder(dir));
    }

    @AfterEach
    void close() throws Exception {
        sink.auto = sink::applyDeduped;
        FakeSink.Write pending;
        while ((pending = sink.writes.poll()) != null) { // a replay or direct write the test left unanswered
            pending.reply().complete(sink.applyDeduped(pending));
        }
        if (router != null) {
            router.close();
        }
        if (spill != null) {
            spill.close();
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> values(List<Message> ms) {
        List<String> out = new ArrayList<>();
        ms.forEach(m -> out.add(new String(m.value(), StandardCharsets.UTF_8)));
        return out;
    }

    private CompletableFuture<Void> push(String key, String... values) {
        List<byte[]> vs = new ArrayList<>();
        for (String v : values) {
            vs.add(b(v));
        }
        return router.submit(Message.ListOp.RPUSH, b(key), vs);
    }

    @Test
    void acknowledgesADirectBatchOnlyWhenTheSinkSaysItIsWritten() throws Exception {
        open();
        CompletableFuture<Void> a = push("k", "a");
        FakeSink.Write w = sink.next();
        assertThat(a).isNotDone();
        w.written();
        a.get(5, TimeUnit.SECONDS);
        assertThat(router.mode()).isEqualTo(Router.Mode.DIRECT);
    }

    @Test
    void aWriteWhoseOutcomeIsUnknownIsSpilledWithEverythingBehindItThenReplayedInOrder() throws Exception {
        open();
        sink.permits = false;
        CompletableFuture<Void> a = push("k", "a");
        FakeSink.Write first = sink.next();
        CompletableFuture<Void> b = push("k", "b", "c"); // queued behind the batch in flight
        first.fail(new WriteGateException("write gate changed while the batch was in flight", true));
        a.get(5, TimeUnit.SECONDS); // acknowledged: fsync'd in the spill
        b.get(5, TimeUnit.SECONDS);
        assertThat(router.mode()).isEqualTo(Router.Mode.SPILL);
        CompletableFuture<Void> d = push("k", "d"); // behind the spill, not direct
        d.get(5, TimeUnit.SECONDS);
        assertThat(spill.pendingMessages()).isEqualTo(4);

        sink.allowCalls();
        FakeSink.Write replay = sink.next();
        assertThat(replay.replay()).isTrue();
        assertThat(values(replay.batch())).containsExactly("a", "b", "c", "d");
        replay.reply().complete(sink.applyDeduped(replay));
        awaitMode(Router.Mode.DIRECT);
        assertThat(spill.pendingMessages()).isZero();

        CompletableFuture<Void> e = push("k", "e");
        FakeSink.Write direct = sink.next();
        assertThat(direct.replay()).isFalse();
        assertThat(values(direct.batch())).containsExactly("e");
        direct.written();
        e.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aFailedReplayIsSentAgainFromTheSameMessageAndLandsOnce() throws Exception {
        open();
        sink.permits = false;
        push("k", "a");
        sink.next().fail(new WriteGateException("gate closed", false));
        push("k", "b").get(5, TimeUnit.SECONDS);
        sink.allowCalls();
        FakeSink.Write r1 = sink.next();
        sink.applyDeduped(r1); // it landed, but the reply is lost in a failover
        r1.fail(new WriteGateException("write gate changed while the batch was in flight", true));
        FakeSink.Write r2 = sink.next();
        assertThat(values(r2.batch())).containsExactly("a", "b");
        r2.reply().complete(sink.applyDeduped(r2));
        awaitMode(Router.Mode.DIRECT);
        assertThat(values(sink.landed)).containsExactly("a", "b");
    }

    @Test
    void aRunRedisRefusesFailsOnlyItsRequestAndTheRestGoOutInOrder() throws Exception {
        open();
        CompletableFuture<Void> first = push("k", "first");
        FakeSink.Write w1 = sink.next();
        CompletableFuture<Void> good = push("k", "g1");
        CompletableFuture<Void> poison = push("p", "x1", "x2");
        CompletableFuture<Void> after = push("k", "g2");
        w1.reply().complete(sink.applyDeduped(w1));
        first.get(5, TimeUnit.SECONDS);
        FakeSink.Write w2 = sink.next();
        assertThat(values(w2.batch())).containsExactly("g1", "x1", "x2", "g2");
        Message x1 = w2.batch().get(1);
        CompletableFuture<Void> later = push("k", "g3"); // queued while w2 is out: must go after g2
        // Redis applied g1, refused the run x1..x2 and sent nothing after it
        sink.applyDeduped(new FakeSink.Write(w2.batch().subList(0, 1), false, new CompletableFuture<>()));
        w2.reply().complete(new WriteResult(1, 0, 0, new WriteResult.Refusal(x1.instance(), x1.sequence(), 2,
                "WRONGTYPE Operation against a key holding the wrong kind of value")));
        good.get(5, TimeUnit.SECONDS);
        assertThat(refusal(poison).reason()).isEqualTo(RelayRejectedException.Reason.REDIS_REFUSED);
        assertThat(refusal(poison)).hasMessageStartingWith("WRONGTYPE");
        FakeSink.Write w3 = sink.next();
        assertThat(values(w3.batch())).as("the tail first, then what queued behind it").containsExactly("g2", "g3");
        w3.reply().complete(sink.applyDeduped(w3));
        after.get(5, TimeUnit.SECONDS);
        later.get(5, TimeUnit.SECONDS);
        assertThat(values(sink.landed)).containsExactly("first", "g1", "g2", "g3");
        assertThat(router.mode()).as("a refusal is no reason to spill").isEqualTo(Router.Mode.DIRECT);
        assertThat(spill.pendingMessages()).isZero();
    }

    @Test
    void aRequestIsNeverSplitAcrossDirectBatches() throws Exception {
        open(SinkConfig.builder().maxBatch(2).build(), SpillLogConfig.builder(dir));
        CompletableFuture<Void> a = push("k", "a");
        FakeSink.Write w1 = sink.next();
        CompletableFuture<Void> b = push("k", "b1", "b2", "b3");
        CompletableFuture<Void> c = push("k", "c");
        w1.written();
        FakeSink.Write w2 = sink.next();
        assertThat(values(w2.batch())).containsExactly("b1", "b2", "b3");
        w2.written();
        FakeSink.Write w3 = sink.next();
        assertThat(values(w3.batch())).containsExactly("c");
        w3.written();
        CompletableFuture.allOf(a, b, c).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aRequestThatDoesNotFitTheSpillIsRefusedWholeAndNothingOfItIsSpilled() throws Exception {
        // each value of the big request is 60 bytes: five of them never fit in 256
        open(SinkConfig.builder().build(), SpillLogConfig.builder(dir).maxBytes(256).segmentBytes(4096)
                .maxRecordBytes(128));
        sink.permits = false;
        push("k", "a");
        sink.next().fail(new WriteGateException("gate closed", false));
        awaitMode(Router.Mode.SPILL);
        long before = spill.pendingMessages();
        String v = "x".repeat(60);
        CompletableFuture<Void> big = push("k", v, v, v, v, v);
        assertThat(refusal(big).reason()).isEqualTo(RelayRejectedException.Reason.SPILL_FULL);
        assertThat(spill.pendingMessages()).as("none of the refused request's values").isEqualTo(before);
        CompletableFuture<Void> small = push("k", "s");
        small.get(5, TimeUnit.SECONDS);
        sink.auto = sink::applyDeduped;
        sink.allowCalls();
        awaitMode(Router.Mode.DIRECT);
        assertThat(values(sink.landed)).containsExactly("a", "s");
    }

    @Test
    void whenAFailedBatchCannotAllBeSpilledNothingBehindTheFirstRefusalIsAcknowledged() throws Exception {
        open(SinkConfig.builder().build(), SpillLogConfig.builder(dir).maxBytes(300).segmentBytes(4096)
                .maxRecordBytes(256));
        CompletableFuture<Void> first = push("k", "x".repeat(40));
        FakeSink.Write w1 = sink.next();
        CompletableFuture<Void> big = push("k", "y".repeat(200), "y".repeat(200)); // does not fit
        CompletableFuture<Void> small = push("k", "z"); // would fit
        w1.fail(new WriteGateException("write gate changed while the batch was in flight", true));
        first.get(5, TimeUnit.SECONDS);
        assertThat(refusal(big).reason()).isEqualTo(RelayRejectedException.Reason.SPILL_FULL);
        assertThat(refusal(small).reason()).as("acknowledged ahead of a refused request, it would overtake it")
                .isEqualTo(RelayRejectedException.Reason.SPILL_FULL);
        assertThat(spill.pendingMessages()).isEqualTo(1);
    }

    @Test
    void refusesKeysThatHoldSpillwaysOwnState() throws Exception {
        open();
        assertThat(refusal(push("spillway:hw:1234", "v")).getMessage()).contains("reserved");
        assertThat(refusal(push("spillway:dead-letter", "v")).getMessage()).contains("reserved");
        // a key the spill log could not carry is refused in every mode, not only while spilling
        assertThat(refusal(push("k".repeat(65536), "v")).getMessage())
                .isEqualTo("ERR key of 65536 bytes exceeds Spillway's limit of 65535 bytes (a key must fit the spill log)");
        assertThat(sink.writes).isEmpty();
        CompletableFuture<Void> longest = push("k".repeat(65535), "v");
        FakeSink.Write w = sink.next();
        assertThat(w.batch().get(0).key()).hasSize(65535);
        w.written();
        longest.get(5, TimeUnit.SECONDS);
    }

    @Test
    void aRestartedRelayReplaysItsSpillBeforeWritingDirectly() throws Exception {
        open();
        sink.permits = false;
        push("k", "old");
        sink.next().fail(new WriteGateException("gate closed", false));
        awaitMode(Router.Mode.SPILL);
        router.close();
        spill.close();
        spill = SpillLog.open(SpillLogConfig.builder(dir).build(), new MetricRegistry());
        router = new Router(sink, spill, SinkConfig.builder().build(), new MetricRegistry());
        assertThat(router.mode()).isEqualTo(Router.Mode.SPILL);
        CompletableFuture<Void> fresh = push("k", "new");
        fresh.get(5, TimeUnit.SECONDS);
        sink.auto = sink::applyDeduped;
        sink.allowCalls();
        awaitMode(Router.Mode.DIRECT);
        assertThat(values(sink.landed)).containsExactly("old", "new");
    }

    private static RelayRejectedException refusal(CompletableFuture<Void> f) {
        Throwable t = null;
        try {
            f.get(5, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            t = e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThat(t).isInstanceOf(RelayRejectedException.class);
        return (RelayRejectedException) t;
    }

    private void awaitMode(Router.Mode mode) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (router.mode() != mode && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(router.mode()).isEqualTo(mode);
    }
}
