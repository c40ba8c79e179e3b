package dev.spillway.relay.spill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real full disk: the spill directory on a 4 MiB tmpfs. The log is filled until the kernel
 * says ENOSPC, then another file takes what room is left (the reserve's too), and the log must
 * still drain — commits and segment deletes need no new space — take appends again by itself
 * once replay has freed room, and lose nothing it acknowledged.
 */
class SpillLogFullDiskTest {

    @TempDir
    Path tmp;

    @Test
    void aFullDiskRefusesClearlyDrainsAndTakesAppendsAgain() throws Exception {
        Random random = new Random(1128);
        try (Tmpfs disk = Tmpfs.mount(tmp.resolve("disk"), 4L << 20)) {
            Path dir = disk.dir().resolve("spill");
            SpillLogConfig cfg = SpillLogConfig.builder(dir).segmentBytes(256 * 1024).maxRecordBytes(64 * 1024)
                    .maxBytes(64L << 20).reserveBytes(256 * 1024).build();
            List<Message> acked = new ArrayList<>();
            List<Message> refused = new ArrayList<>();
            long seq = 0;
            try (SpillLog log = SpillLog.open(cfg, new MetricRegistry())) {
                assertThat(Files.size(dir.resolve(SpillLog.RESERVE))).isEqualTo(256 * 1024);
                // 1. fill it: requests of 1-3 values, 16 in flight, until the disk is full
                Throwable diskFull = null;
                for (int round = 0; round < 1000 && diskFull == null; round++) {
                    List<List<Message>> requests = new ArrayList<>();
                    List<List<CompletableFuture<Long>>> futures = new ArrayList<>();
                    for (int r = 0; r < 16; r++) {
                        List<Message> request = new ArrayList<>();
                        for (int v = 1 + random.nextInt(3); v > 0; v--) {
                            byte[] value = new byte[1024 + random.nextInt(3072)];
                            random.nextBytes(value);
                            request.add(new Message(1, seq++, Message.ListOp.RPUSH,
                                    "q".getBytes(StandardCharsets.UTF_8), value));
                        }
                        try {
                            futures.add(log.appendAll(request));
                            requests.add(request);
                        } catch (SpillDiskFullException e) {
                            diskFull = e;
                            refused.addAll(request);
                        }
                    }
                    for (int r = 0; r < requests.size(); r++) {
                        boolean ok = true;
                        for (CompletableFuture<Long> f : futures.get(r)) {
                            try {
                                f.get(10, TimeUnit.SECONDS);
                            } catch (ExecutionException e) {
                                assertThat(e.getCause()).isInstanceOf(SpillDiskFullException.class)
                                        .hasMessageStartingWith("spill disk full");
                                diskFull = e.getCause();
                                ok = false;
                            }
                        }
                        // a request is acknowledged whole or refused whole
                        (ok ? acked : refused).addAll(requests.get(r));
                    }
                }
                assertThat(diskFull).as("4 MiB filled up").isNotNull();
                assertThat(log.isDiskFull()).isTrue();
                assertThat(Files.exists(dir.resolve(SpillLog.RESERVE))).as("reserve given up").isFalse();
                Message small = new Message(1, seq++, Message.ListOp.RPUSH, new byte[] {'q'}, new byte[1]);
                assertThatThrownBy(() -> log.append(small)).isInstanceOf(SpillDiskFullException.class);

                // 2. something else takes the rest of the disk, the reserve's room included
                long filled = fill(disk.dir().resolve("filler"));
                assertThat(filled).isPositive();

                // 3. replay drains it on the full disk: commits and deletes need no room
                List<Message> replayed = new ArrayList<>();
                while (true) {
                    List<SpilledMessage> batch = log.cursor().read(100, 1 << 20);
                    if (batch.isEmpty()) {
                        break;
                    }
                    batch.forEach(s -> replayed.add(s.message()));
                    log.cursor().commit(batch.get(batch.size() - 1).index() + 1);
                }
                assertThat(replayed).as("every acknowledged message once, in order, none refused")
                        .containsExactlyElementsOf(acked);
                assertThat(log.pendingMessages()).isZero();

                // 4. the room replay freed is enough: appends are taken again
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (log.isDiskFull() && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertThat(log.isDiskFull()).as("takes appends again once replay freed room").isFalse();
                assertThat(Files.size(dir.resolve(SpillLog.RESERVE))).isEqualTo(256 * 1024);
                List<Message> after = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    Message m = new Message(1, seq++, Message.ListOp.LPUSH, "q".getBytes(StandardCharsets.UTF_8),
                            new byte[2000]);
                    log.append(m).get(10, TimeUnit.SECONDS);
                    after.add(m);
                }
                assertThat(SpillTestSupport.readAll(log)).containsExactlyElementsOf(after);
                log.cursor().rewind();
                acked.clear();
                acked.addAll(after);
            }
            Files.delete(disk.dir().resolve("filler"));
            try (SpillLog log = SpillLog.open(cfg, new MetricRegistry())) {
                assertThat(log.isDiskFull()).isFalse();
                assertThat(SpillTestSupport.readAll(log)).containsExactlyElementsOf(acked);
            }
        }
    }

    @Test
    void aLogOpenedOnAFullDiskStartsRefusingAndStillReplays() throws Exception {
        try (Tmpfs disk = Tmpfs.mount(tmp.resolve("disk"), 2L << 20)) {
            Path dir = disk.dir().resolve("spill");
            SpillLogConfig cfg = SpillLogConfig.builder(dir).segmentBytes(128 * 1024).maxRecordBytes(16 * 1024)
                    .reserveBytes(256 * 1024).build();
            List<Message> acked = new ArrayList<>();
            try (SpillLog log = SpillLog.open(cfg, new MetricRegistry())) {
                for (long s = 0; s < 50; s++) {
                    Message m = SpillTestSupport.message(1, s, "q", new byte[1000]);
                    log.append(m).get(10, TimeUnit.SECONDS);
                    acked.add(m);
                }
            }
            Files.delete(dir.resolve(SpillLog.RESERVE));
            fill(disk.dir().resolve("filler"));
            try (SpillLog log = SpillLog.open(cfg, new MetricRegistry())) {
                assertThat(log.isDiskFull()).isTrue();
                assertThatThrownBy(() -> log.append(SpillTestSupport.message(1, 99, "q", new byte[10])))
                        .isInstanceOf(SpillDiskFullException.class).hasMessageContaining(dir.toString());
                List<SpilledMessage> all = log.cursor().read(1000, 1 << 20);
                assertThat(all).extracting(SpilledMessage::message).containsExactlyElementsOf(acked);
                log.cursor().commit(all.get(all.size() - 1).index() + 1);
                assertThat(log.pendingMessages()).isZero();
            }
        }
    }

    /** Writes zeros to {@code file} until the disk is full; returns the bytes written. */
    private static long fill(Path file) throws IOException {
        long written = 0;
        ByteBuffer zeros = ByteBuffer.allocate(4096);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            while (true) {
                zeros.clear();
                try {
                    written += ch.write(zeros);
                } catch (IOException e) {
                    assertThat(e.getMessage()).contains("No space left on device");
                    return written;
                }
            }
        }
    }
}
