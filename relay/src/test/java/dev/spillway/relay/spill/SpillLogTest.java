package dev.spillway.relay.spill;

import static dev.spillway.relay.spill.SpillTestSupport.appendAll;
import static dev.spillway.relay.spill.SpillTestSupport.config;
import static dev.spillway.relay.spill.SpillTestSupport.message;
import static dev.spillway.relay.spill.SpillTestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.spillway.relay.Message;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpillLogTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsMessagesInAppendOrder() throws Exception {
        Random r = new Random(1);
        List<Message> sent = LongStream.range(0, 500).mapToObj(i -> SpillTestSupport.randomMessage(r, i)).toList();
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            List<Long> indexes = appendAll(log, sent);
            assertThat(indexes).isEqualTo(LongStream.range(0, 500).boxed().toList());
            assertThat(readAll(log)).containsExactlyElementsOf(sent);
            assertThat(log.pendingMessages()).isEqualTo(500);
        }
    }

    @Test
    void anEmptyKeyAndAnEmptyValueSurviveReplayAndReopenLikeAnyOther() throws Exception {
        List<Message> sent = List.of(message(1, 0, "", new byte[0]), message(1, 1, "", "v".getBytes()),
                message(1, 2, "k", new byte[0]));
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            appendAll(log, sent);
            assertThat(readAll(log)).containsExactlyElementsOf(sent);
        }
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            assertThat(log.recoveryReport().bytesDropped()).as("nothing taken for damage").isZero();
            assertThat(readAll(log)).containsExactlyElementsOf(sent);
        }
    }

    @Test
    void acknowledgesOnlyWhatIsDurableAndReadsItBackAfterReopen() throws Exception {
        List<Message> sent = LongStream.range(0, 100).mapToObj(SpillTestSupport::message).toList();
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            appendAll(log, sent);
            assertThat(log.durableEnd()).isEqualTo(100);
        }
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            assertThat(log.recoveryReport().isClean()).isTrue();
            assertThat(log.pendingMessages()).isEqualTo(100);
            assertThat(readAll(log)).containsExactlyElementsOf(sent);
        }
    }

    @Test
    void rollsSegmentsAndReadsAcrossThem() throws Exception {
        byte[] value = new byte[1000];
        List<Message> sent = LongStream.range(0, 300).mapToObj(i -> message(1, i, "k", value)).toList();
        try (SpillLog log = SpillLog.open(config(dir).segmentBytes(16 * 1024).maxRecordBytes(8 * 1024).build())) {
            appendAll(log, sent);
            assertThat(log.segmentCount()).isGreaterThan(15);
            assertThat(readAll(log)).containsExactlyElementsOf(sent);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.filter(p -> p.toString().endsWith(".seg")).count()).isGreaterThan(15);
        }
    }

    @Test
    void commitSurvivesReopenAndDeletesReplayedSegments() throws Exception {
        byte[] value = new byte[1000];
        List<Message> sent = LongStream.range(0, 300).mapToObj(i -> message(1, i, "k", value)).toList();
        SpillLogConfig cfg = config(dir).segmentBytes(16 * 1024).maxRecordBytes(8 * 1024).build();
        try (SpillLog log = SpillLog.open(cfg)) {
            appendAll(log, sent);
            int segmentsBefore = log.segmentCount();
            List<SpilledMessage> first = log.cursor().read(200, Long.MAX_VALUE);
            assertThat(first).hasSize(200);
            log.cursor().commit(200);
            assertThat(log.segmentCount()).isLessThan(segmentsBefore);
            assertThat(log.pendingMessages()).isEqualTo(100);
            assertThat(log.pendingBytes()).isEqualTo(100L * RecordCodec.encodedSize(sent.get(0)));
            // read past the commit without committing: a restart re-delivers these
            assertThat(log.cursor().read(50, Long.MAX_VALUE)).hasSize(50);
        }
        try (Stream<Path> files = Files.list(dir)) {
            long lowestBase = files.mapToLong(SegmentFile::parseBaseIndex).filter(b -> b >= 0).min().orElseThrow();
            assertThat(lowestBase).isGreaterThan(100).isLessThanOrEqualTo(200);
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(log.recoveryReport().isClean()).isTrue();
            assertThat(log.pendingMessages()).isEqualTo(100);
            assertThat(log.pendingBytes()).isEqualTo(100L * RecordCodec.encodedSize(sent.get(0)));
            assertThat(readAll(log)).containsExactlyElementsOf(sent.subList(200, 300));
        }
    }

    @Test
    void fullyReplayedLogKeepsNumberingAfterReopen() throws Exception {
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            appendAll(log, LongStream.range(0, 10).mapToObj(SpillTestSupport::message).toList());
            assertThat(readAll(log)).hasSize(10);
            log.cursor().commit(10);
            assertThat(log.pendingMessages()).isZero();
            assertThat(log.pendingBytes()).isZero();
        }
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            assertThat(log.pendingMessages()).isZero();
            assertThat(readAll(log)).isEmpty();
            assertThat(log.append(message(10)).get(5, TimeUnit.SECONDS)).isEqualTo(10L);
            assertThat(readAll(log)).containsExactly(message(10));
        }
    }

    @Test
    void rewindReadsUncommittedRecordsAgain() throws Exception {
        List<Message> sent = LongStream.range(0, 20).mapToObj(SpillTestSupport::message).toList();
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            appendAll(log, sent);
            log.cursor().read(5, Long.MAX_VALUE);
            log.cursor().commit(5);
            log.cursor().read(10, Long.MAX_VALUE);
            log.cursor().rewind();
            assertThat(readAll(log)).containsExactlyElementsOf(sent.subList(5, 20));
        }
    }

    @Test
    void refusesCommitBeyondWhatWasRead() throws Exception {
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            appendAll(log, List.of(message(0), message(1)));
            log.cursor().read(1, Long.MAX_VALUE);
            assertThatThrownBy(() -> log.cursor().commit(2)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("read position 1");
        }
    }

    @Test
    void concurrentAppendersShareFsyncsAndKeepPerThreadOrder() throws Exception {
        int threads = 8;
        int perThread = 500;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (SpillLog log = SpillLog.open(config(dir).segmentBytes(1 << 20).build())) {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long instance = t;
                done.add(pool.submit(() -> {
                    List<CompletableFuture<Long>> acks = new ArrayList<>();
                    for (long s = 0; s < perThread; s++) {
                        acks.add(log.append(message(instance, s, "k", new byte[50])));
                        if (s % 16 == 15) {
                            acks.forEach(CompletableFuture::join); // keep a window of appends in flight
                        }
                    }
                    acks.forEach(CompletableFuture::join);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(30, TimeUnit.SECONDS);
            }
            List<Message> all = readAll(log);
            assertThat(all).hasSize(threads * perThread);
            for (int t = 0; t < threads; t++) {
                long instance = t;
                assertThat(all.stream().filter(m -> m.instance() == instance).mapToLong(Message::sequence))
                        .containsExactlyElementsOf(LongStream.range(0, perThread).boxed().toList());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rejectsAppendWhenFullNamingTheLimitAndFreesRoomOnCommit() throws Exception {
        Message m = message(0);
        int size = RecordCodec.encodedSize(m);
        SpillLogConfig cfg = config(dir).maxBytes(10L * size).build();
        try (SpillLog log = SpillLog.open(cfg)) {
            AtomicInteger roomSignals = new AtomicInteger();
            log.addSpaceListener(roomSignals::incrementAndGet);
            log.addSpaceListener(() -> {
                throw new IllegalStateException("a broken listener must not break commits");
            });
            List<Message> ten = LongStream.range(0, 10).mapToObj(SpillTestSupport::message).toList();
            appendAll(log, ten);
            assertThatThrownBy(() -> log.append(message(10)))
                    .isInstanceOf(SpillFullException.class)
                    .hasMessageContaining("spill log full")
                    .hasMessageContaining(String.valueOf(10L * size))
                    .hasMessageContaining("spill.maxBytes");
            assertThat(log.pendingMessages()).isEqualTo(10);

            log.cursor().read(3, Long.MAX_VALUE);
            log.cursor().commit(3);
            assertThat(roomSignals.get()).isEqualTo(1);
            appendAll(log, List.of(message(10), message(11), message(12)));
            assertThatThrownBy(() -> log.append(message(13))).isInstanceOf(SpillFullException.class);
            List<Message> expected = new ArrayList<>(ten.subList(3, 10));
            Collections.addAll(expected, message(10), message(11), message(12));
            assertThat(readAll(log)).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void rejectsRecordLargerThanTheRecordLimit() throws Exception {
        try (SpillLog log = SpillLog.open(config(dir).maxRecordBytes(1024).build())) {
            assertThatThrownBy(() -> log.append(message(1, 0, "k", new byte[2000])))
                    .isInstanceOf(SpillException.class).hasMessageContaining("exceeds the spill record limit");
            assertThat(log.pendingMessages()).isZero();
        }
    }

    @Test
    void refusesAppendsAfterClose() throws Exception {
        SpillLog log = SpillLog.open(config(dir).build());
        CompletableFuture<Long> last = log.append(message(0));
        log.close();
        assertThat(last).isCompletedWithValue(0L);
        assertThatThrownBy(() -> log.append(message(1))).isInstanceOf(SpillException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void rejectsInvalidConfigurationNamingTheField() {
        assertThatThrownBy(() -> SpillLogConfig.builder(dir).maxBytes(0).build())
                .hasMessage("maxBytes: 0 (expected: > 0)");
        assertThatThrownBy(() -> SpillLogConfig.builder(dir).segmentBytes(1024).maxRecordBytes(4096).build())
                .hasMessageContaining("maxRecordBytes: 4096");
    }
}
