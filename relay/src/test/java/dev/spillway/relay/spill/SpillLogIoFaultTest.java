package dev.spillway.relay.spill;

import static dev.spillway.relay.spill.SpillTestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spill log at the worst moments of an I/O fault: a failed fsync after the replayer read
 * ahead, damage behind the replay position followed by a second restart, a segment roll that
 * fails half way, a disk that fails even the repair, a request whose write fails in its middle,
 * and two processes on one directory.
 */
class SpillLogIoFaultTest {

    @TempDir
    Path tmp;

    private static Message msg(long seq, int valueBytes) {
        return SpillTestSupport.message(1, seq, "k", new byte[valueBytes]);
    }

    private static long ack(SpillLog log, Message m) throws Exception {
        return log.append(m).get(5, TimeUnit.SECONDS);
    }

    @Test
    void replayNeverHandsOutBytesAFailedFsyncTookBack() throws Exception {
        FaultyStorage faults = new FaultyStorage();
        SpillLogConfig cfg = SpillTestSupport.config(tmp.resolve("readahead")).build();
        try (SpillLog log = SpillLog.open(cfg, faults, new MetricRegistry())) {
            Message m0 = msg(0, 100);
            ack(log, m0);
            CountDownLatch release = new CountDownLatch(1);
            faults.forceGate = release;
            Message m1 = msg(1, 100);
            CompletableFuture<Long> f1 = log.append(m1); // written, its fsync hangs, then fails
            assertThat(faults.forceWaiting.await(5, TimeUnit.SECONDS)).isTrue();
            List<SpilledMessage> first = log.cursor().read(10, 1 << 20);
            assertThat(first).extracting(SpilledMessage::message).containsExactly(m0);
            release.countDown();
            assertThatThrownBy(() -> f1.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(SpillException.class);
            Message m2 = msg(2, 100); // same size, same offset, same index as m1
            assertThat(ack(log, m2)).isEqualTo(1);
            assertThat(log.cursor().read(10, 1 << 20)).extracting(SpilledMessage::message)
                    .as("the replayer reads what was acknowledged at index 1, not the refused bytes it could "
                            + "have read ahead")
                    .containsExactly(m2);
        }
    }

    @Test
    void damageBehindTheCursorLeavesNoIndexGapForTheNextOpen() throws Exception {
        Path dir = tmp.resolve("gap");
        SpillLogConfig cfg = SpillTestSupport.config(dir).build();
        try (SpillLog log = SpillLog.open(cfg)) {
            for (long s = 0; s < 100; s++) {
                ack(log, msg(s, 100));
            }
            assertThat(readAll(log)).hasSize(100);
            log.cursor().commit(100);
        }
        corruptRecord(dir, 60);
        List<Message> acked = new ArrayList<>();
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(log.recoveryReport().isClean()).isFalse();
            assertThat(log.pendingMessages()).isZero();
            for (long s = 100; s < 150; s++) {
                Message m = msg(s, 100);
                assertThat(ack(log, m)).isEqualTo(s);
                acked.add(m);
            }
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(log.pendingMessages()).as("pending after the second open").isEqualTo(50);
            assertThat(readAll(log)).containsExactlyElementsOf(acked);
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(log.recoveryReport().isClean()).as("a third open finds nothing to repair").isTrue();
        }
    }

    @Test
    void damageInAReplayedSegmentKeepsTheSegmentsTheCursorIsIn() throws Exception {
        Path dir = tmp.resolve("damage-replayed");
        SpillLogConfig cfg = SpillTestSupport.config(dir).segmentBytes(4096).maxRecordBytes(1024).build();
        List<Message> all = new ArrayList<>();
        try (SpillLog log = SpillLog.open(cfg)) {
            for (long s = 0; s < 80; s++) { // 29 records a segment: segments at 0, 29, 58
                Message m = msg(s, 100);
                ack(log, m);
                all.add(m);
            }
            List<SpilledMessage> read = log.cursor().read(35, 1 << 20);
            log.cursor().commit(read.get(read.size() - 1).index() + 1); // 35: past the second segment's base
            assertThat(log.segmentCount()).isEqualTo(2); // the first one is deleted ...
        }
        // ... and comes back (a delete a power cut took back), damaged
        Files.write(SegmentFile.pathFor(dir, 0), SegmentFile.header(0).array());
        Files.write(SegmentFile.pathFor(dir, 0), new byte[] {0, 0, 0, 99, 1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(SpillTestSupport.readAll(log)).containsExactlyElementsOf(all.subList(35, 80));
        }
    }

    @Test
    void aRollWhoseDirectorySyncFailsLeavesNoSegmentBehind() throws Exception {
        FaultyStorage faults = new FaultyStorage();
        rollFailsThenSmallerRecordsFitAndLaterRollsWork(faults, () -> faults.failDirectorySyncs.set(1), "dir sync");
    }

    @Test
    void aRollWhoseNewSegmentCannotBeOpenedLeavesNoSegmentBehind() throws Exception {
        FaultyStorage faults = new FaultyStorage();
        rollFailsThenSmallerRecordsFitAndLaterRollsWork(faults, () -> faults.failSegmentOpens.set(1), "open");
    }

    /**
     * A roll fails after its segment was renamed into place; a smaller record still fits the old
     * segment and is acknowledged at the index the failed segment was named after; a later roll
     * works. Every acknowledged record must survive a reopen.
     */
    private void rollFailsThenSmallerRecordsFitAndLaterRollsWork(FaultyStorage faults, Runnable fault, String what)
            throws Exception {
        Path dir = tmp.resolve("roll-" + what.replace(' ', '-'));
        SpillLogConfig cfg = SpillTestSupport.config(dir).segmentBytes(4096).maxRecordBytes(1024).build();
        List<Message> acked = new ArrayList<>();
        long seq = 0;
        try (SpillLog log = SpillLog.open(cfg, faults, new MetricRegistry())) {
            for (; seq < 29; seq++) { // 20 + 29 * 136 = 3964 of 4096 bytes
                Message m = msg(seq, 100);
                ack(log, m);
                acked.add(m);
            }
            fault.run();
            Message big = msg(seq++, 200); // does not fit: roll, which fails
            assertThatThrownBy(() -> ack(log, big)).as(what).hasCauseInstanceOf(SpillException.class);
            assertThat(log.isFailed()).isFalse();
            Message small = msg(seq++, 40); // fits the old segment, at the failed segment's base index
            assertThat(ack(log, small)).isEqualTo(29);
            acked.add(small);
            for (int i = 0; i < 60; i++, seq++) { // more rolls
                Message m = msg(seq, 100);
                ack(log, m);
                acked.add(m);
            }
            assertThat(log.segmentCount()).isGreaterThan(1);
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(log.recoveryReport().actions()).as(what).isEmpty();
            assertThat(readAll(log)).as(what).containsExactlyElementsOf(acked);
        }
    }

    @Test
    void aRollWhoseCleanupAlsoFailsStopsTheLogAndLosesNothingAcknowledged() throws Exception {
        FaultyStorage faults = new FaultyStorage();
        Path dir = tmp.resolve("unclean");
        SpillLogConfig cfg = SpillTestSupport.config(dir).segmentBytes(4096).maxRecordBytes(1024).build();
        List<Message> acked = new ArrayList<>();
        try (SpillLog log = SpillLog.open(cfg, faults, new MetricRegistry())) {
            for (long s = 0; s < 29; s++) {
                Message m = msg(s, 100);
                ack(log, m);
                acked.add(m);
            }
            faults.failDirectorySyncs.set(2); // the create's sync, then the cleanup's
            assertThatThrownBy(() -> ack(log, msg(29, 200))).hasCauseInstanceOf(SpillException.class);
            assertThat(log.isFailed()).isTrue();
            assertThatThrownBy(() -> log.append(msg(30, 40))).isInstanceOf(SpillException.class)
                    .hasMessageContaining("unusable");
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(readAll(log)).containsExactlyElementsOf(acked);
            Message after = msg(31, 100);
            ack(log, after);
            acked.add(after);
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(readAll(log)).containsExactlyElementsOf(acked);
        }
    }

    @Test
    void whenEvenTheRepairFailsTheLogStopsAndAcknowledgesNothingMore() throws Exception {
        FaultyStorage faults = new FaultyStorage();
        Path dir = tmp.resolve("repair");
        SpillLogConfig cfg = SpillTestSupport.config(dir).segmentBytes(4096).maxRecordBytes(1024)
                .flushMaxWait(Duration.ofSeconds(30)).build();
        List<Message> acked = new ArrayList<>();
        try (SpillLog log = SpillLog.open(cfg, faults, new MetricRegistry())) {
            for (long s = 0; s < 28; s++) { // 20 + 28 * 136 = 3828 bytes
                Message m = msg(s, 100);
                ack(log, m);
                acked.add(m);
            }
            CountDownLatch release = new CountDownLatch(1);
            faults.writeGate = release;
            CompletableFuture<Long> x = log.append(msg(28, 100)); // the writer waits inside this write
            assertThat(faults.writeWaiting.await(5, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Long> a = log.append(msg(29, 40)); // fits
            CompletableFuture<Long> b = log.append(msg(30, 100)); // needs a roll, whose fsync of x and a fails
            faults.failForceNumber = faults.forces.get() + 1;
            faults.failTruncates = true; // and so does cutting them off again
            release.countDown();
            for (CompletableFuture<Long> f : List.of(x, a, b)) {
                assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                        .hasCauseInstanceOf(SpillException.class);
            }
            assertThat(log.isFailed()).isTrue();
            try (Stream<Path> files = Files.list(dir)) {
                assertThat(files.filter(p -> p.toString().endsWith(".seg")).count())
                        .as("no segment was started after the log failed").isEqualTo(1);
            }
            assertThatThrownBy(() -> log.append(msg(31, 10))).isInstanceOf(SpillException.class);
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            // x and a may be found (written, never acknowledged: the disk refused to cut them);
            // every acknowledged record is there, in order, first
            List<Message> found = readAll(log);
            assertThat(found.subList(0, acked.size())).containsExactlyElementsOf(acked);
            assertThat(found).doesNotContain(msg(30, 100));
        }
    }

    @Test
    void aFailedWriteRefusesTheRequestsQueuedBehindItToo() throws Exception {
        FaultyStorage faults = new FaultyStorage();
        faults.writeError = "Input/output error (write)";
        SpillLogConfig cfg = SpillTestSupport.config(tmp.resolve("queued")).build();
        try (SpillLog log = SpillLog.open(cfg, faults, new MetricRegistry())) {
            Message head = msg(0, 100);
            ack(log, head);
            CountDownLatch release = new CountDownLatch(1);
            faults.writeGate = release;
            CompletableFuture<Long> x = log.append(msg(1, 100)); // the writer waits inside this write, which fails
            assertThat(faults.writeWaiting.await(5, TimeUnit.SECONDS)).isTrue();
            faults.failWriteNumber = faults.writes.get() + 1;
            List<CompletableFuture<Long>> behind = List.of(log.append(msg(2, 10)), log.append(msg(3, 10)));
            release.countDown();
            assertThatThrownBy(() -> x.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(SpillException.class);
            for (CompletableFuture<Long> f : behind) {
                assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).as("queued behind a refused request")
                        .hasCauseInstanceOf(SpillException.class);
            }
            Message after = msg(4, 10);
            assertThat(ack(log, after)).isEqualTo(1);
            assertThat(readAll(log)).containsExactly(head, after);
        }
    }

    @Test
    void aRequestWhoseWriteFailsInItsMiddleIsRefusedWhole() throws Exception {
        FaultyStorage faults = new FaultyStorage();
        faults.writeError = "Input/output error (write)";
        Path dir = tmp.resolve("request");
        SpillLogConfig cfg = SpillTestSupport.config(dir).build();
        // values larger than the write buffer go out one write each: the second write fails
        SpillLogConfig bigWrites = SpillLogConfig.builder(dir).segmentBytes(1 << 20).maxRecordBytes(200_000)
                .writeBufferBytes(64 * 1024).build();
        Message head = msg(0, 100);
        try (SpillLog log = SpillLog.open(bigWrites, faults, new MetricRegistry())) {
            ack(log, head);
            faults.failWriteNumber = faults.writes.get() + 2;
            List<CompletableFuture<Long>> parts = log.appendAll(List.of(msg(1, 100_000), msg(2, 100_000),
                    msg(3, 100_000)));
            for (CompletableFuture<Long> f : parts) {
                assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(SpillException.class);
            }
            assertThat(readAll(log)).containsExactly(head);
            assertThat(log.pendingMessages()).isEqualTo(1);
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(readAll(log)).containsExactly(head);
        }
    }

    @Test
    void aSecondProcessOnTheSameDirectoryIsRefusedWithTheHoldersPid() throws Exception {
        Path dir = tmp.resolve("locked");
        SpillLogConfig cfg = SpillTestSupport.config(dir).build();
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThatThrownBy(() -> SpillLog.open(cfg)).isInstanceOf(SpillException.class)
                    .hasMessageContaining(dir.toAbsolutePath().toString())
                    .hasMessageContaining("pid " + ProcessHandle.current().pid());
        }
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "-Xmx64m", SpillCrashChild.class.getName(),
                dir.toString(), "1", "0").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.US_ASCII))) {
            assertThat(in.readLine()).isEqualTo("READY");
            assertThatThrownBy(() -> SpillLog.open(cfg)).isInstanceOf(SpillException.class)
                    .hasMessageContaining("in use by another process (pid " + child.pid() + ")");
        } finally {
            child.toHandle().destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
        try (SpillLog log = SpillLog.open(cfg)) { // the kernel dropped the dead holder's lock
            assertThat(log.isFailed()).isFalse();
        }
    }

    @Test
    void aNewSpillDirectoryIsSyncedIntoItsParents() throws Exception {
        List<Path> synced = new ArrayList<>();
        SpillStorage recording = new SpillStorage() {
            @Override
            public void syncDirectory(Path dir) throws java.io.IOException {
                synced.add(dir);
                SpillStorage.super.syncDirectory(dir);
            }
        };
        Path dir = tmp.resolve("a").resolve("b").resolve("spill");
        try (SpillLog log = SpillLog.open(SpillTestSupport.config(dir).build(), recording, new MetricRegistry())) {
            assertThat(log.isFailed()).isFalse();
        }
        // each new directory's entry made durable in its parent, before anything is written in it
        assertThat(synced.subList(0, 3)).containsExactly(tmp.toAbsolutePath(), tmp.resolve("a").toAbsolutePath(),
                tmp.resolve("a").resolve("b").toAbsolutePath());
    }

    /** Flips a byte in the body of record {@code index} of the (single) segment in {@code dir}. */
    private static void corruptRecord(Path dir, long index) throws Exception {
        Path seg = SegmentFile.pathFor(dir, 0);
        byte[] b = Files.readAllBytes(seg);
        ByteBuffer buf = ByteBuffer.wrap(b);
        int offset = SegmentFile.HEADER_BYTES;
        for (long i = 0; i < index; i++) {
            offset += RecordCodec.PREFIX_BYTES + buf.getInt(offset);
        }
        b[offset + RecordCodec.PREFIX_BYTES + 30] ^= 0x5A;
        Files.write(seg, b);
    }
}
