package dev.spillway.relay.spill;

import static dev.spillway.relay.spill.SpillTestSupport.config;
import static dev.spillway.relay.spill.SpillTestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failing writes and fsyncs: the appends they cover fail with a clear error, nothing
 * acknowledged before or after is lost, and the log reopens with nothing to repair.
 */
class SpillLogFaultInjectionTest {

    private static final int MESSAGES = 120;

    @TempDir
    Path tmp;

    @Test
    void failedWriteFailsItsAppendsAndLosesNothingAcknowledged() throws Exception {
        for (int n = 1; n <= 12; n++) {
            FaultyStorage faults = new FaultyStorage();
            faults.failWriteNumber = n;
            faults.writeError = "Input/output error (write)";
            runAndCheck(tmp.resolve("write" + n), faults, "write " + n);
        }
    }

    @Test
    void failedFsyncFailsItsAppendsAndLosesNothingAcknowledged() throws Exception {
        for (int n = 1; n <= 12; n++) {
            FaultyStorage faults = new FaultyStorage();
            faults.failForceNumber = n;
            runAndCheck(tmp.resolve("fsync" + n), faults, "fsync " + n);
        }
    }

    @Test
    void fullDiskWhileRollingSegmentsFailsAppendsClearlyThenRecovers() throws Exception {
        FaultyStorage faults = new FaultyStorage();
        Path dir = tmp.resolve("roll");
        SpillLogConfig cfg = config(dir).segmentBytes(4096).maxRecordBytes(1024).build();
        List<Message> acked = new ArrayList<>();
        try (SpillLog log = SpillLog.open(cfg, faults, new MetricRegistry())) {
            long seq = 0;
            for (; seq < 30; seq++) { // fills most of the first segment
                Message m = SpillTestSupport.message(1, seq, "k", new byte[100]);
                log.append(m).get(5, TimeUnit.SECONDS);
                acked.add(m);
            }
            faults.failCreates = true; // ENOSPC when the next segment is created
            ExecutionException e = null;
            for (; seq < 60 && e == null; seq++) {
                Message m = SpillTestSupport.message(1, seq, "k", new byte[100]);
                try {
                    log.append(m).get(5, TimeUnit.SECONDS);
                    acked.add(m);
                } catch (ExecutionException failed) {
                    e = failed;
                }
            }
            assertThat(e).isNotNull();
            assertThat(e.getCause()).isInstanceOf(SpillDiskFullException.class)
                    .hasMessageStartingWith("spill disk full").hasRootCauseMessage(FaultyStorage.ENOSPC);
            assertThat(log.isDiskFull()).isTrue();
            // refused at once while the disk is full, however small the message
            assertThatThrownBy(() -> log.append(SpillTestSupport.message(1, 999, "k", new byte[1])))
                    .isInstanceOf(SpillDiskFullException.class);
            faults.failCreates = false; // room again
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (log.isDiskFull() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(log.isDiskFull()).as("the log takes appends again once there is room").isFalse();
            Message after = SpillTestSupport.message(1, 1000, "k", new byte[100]);
            log.append(after).get(5, TimeUnit.SECONDS);
            acked.add(after);
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(log.recoveryReport().isClean()).isTrue();
            assertThat(readAll(log)).containsExactlyElementsOf(acked);
        }
    }

    @Test
    void vanishedDiskMakesTheLogRefuseAppendsUntilReopened() throws Exception {
        FaultyStorage faults = new FaultyStorage();
        Path dir = tmp.resolve("gone");
        List<Message> acked = new ArrayList<>();
        try (SpillLog log = SpillLog.open(config(dir).build(), faults, new MetricRegistry())) {
            for (long s = 0; s < 10; s++) {
                Message m = SpillTestSupport.message(s);
                log.append(m).get(5, TimeUnit.SECONDS);
                acked.add(m);
            }
            faults.diskGone = true;
            CompletableFuture<Long> doomed = log.append(SpillTestSupport.message(10));
            assertThatThrownBy(() -> doomed.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(SpillException.class);
            assertThat(log.isFailed()).isTrue();
            assertThatThrownBy(() -> log.append(SpillTestSupport.message(11)))
                    .isInstanceOf(SpillException.class).hasMessageContaining("unusable");
            assertThat(log.pendingMessages()).isEqualTo(10);
        }
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            // The failed record may be a torn tail on disk; recovery cuts it, acked ones stay.
            assertThat(readAll(log)).containsExactlyElementsOf(acked);
        }
    }

    /**
     * Appends in windows of eight concurrent appends; the injected fault hits some window.
     * Afterwards the log holds exactly the acknowledged messages, in order.
     */
    private void runAndCheck(Path dir, FaultyStorage faults, String what) throws Exception {
        List<Message> acked = new ArrayList<>();
        int failed = 0;
        SpillLogConfig cfg = config(dir).segmentBytes(8 * 1024).maxRecordBytes(1024).build();
        try (SpillLog log = SpillLog.open(cfg, faults, new MetricRegistry())) {
            for (long s = 0; s < MESSAGES; s += 8) {
                List<Message> window = new ArrayList<>();
                List<CompletableFuture<Long>> acks = new ArrayList<>();
                for (long i = s; i < s + 8; i++) {
                    Message m = SpillTestSupport.message(1, i, "k", new byte[150]);
                    window.add(m);
                    acks.add(log.append(m));
                }
                for (int i = 0; i < acks.size(); i++) {
                    try {
                        acks.get(i).get(5, TimeUnit.SECONDS);
                        acked.add(window.get(i));
                    } catch (ExecutionException e) {
                        assertThat(e.getCause()).as(what).isInstanceOf(SpillException.class)
                                .hasMessageContaining("spill log write failed");
                        failed++;
                    }
                }
            }
            assertThat(failed).as(what + ": the injected fault must fail some append").isPositive();
            assertThat(log.isFailed()).as(what).isFalse();
            assertThat(log.pendingMessages()).as(what).isEqualTo(acked.size());
            assertThat(readAll(log)).as(what + ", before reopen").containsExactlyElementsOf(acked);
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(log.recoveryReport().isClean()).as(what + ": reopen finds nothing to repair").isTrue();
            assertThat(readAll(log)).as(what + ", after reopen").containsExactlyElementsOf(acked);
        }
    }
}
