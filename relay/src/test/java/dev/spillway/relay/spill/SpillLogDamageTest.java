package dev.spillway.relay.spill;

import static dev.spillway.relay.spill.SpillTestSupport.appendAll;
import static dev.spillway.relay.spill.SpillTestSupport.config;
import static dev.spillway.relay.spill.SpillTestSupport.readAll;
import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.Message;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damages a pristine one-segment log in random ways, a thousand times per kind, and checks that
 * recovery keeps exactly the records before the damage, never hands out a damaged record, and
 * leaves nothing for a second open to repair.
 */
class SpillLogDamageTest {

    private static final int TRIALS = 1000;
    private static final int RECORDS = 40;

    @TempDir
    Path tmp;

    private List<Message> sent;
    private byte[] segment;
    private byte[] cursor;
    /** End offset of each record in the segment file. */
    private long[] recordEnds;
    private String segmentName;

    @BeforeEach
    void writePristineLog() throws Exception {
        Random r = new Random(42);
        sent = LongStream.range(0, RECORDS).mapToObj(i -> SpillTestSupport.randomMessage(r, i)).toList();
        Path dir = tmp.resolve("pristine");
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            appendAll(log, sent);
        }
        Path seg;
        try (Stream<Path> files = Files.list(dir)) {
            seg = files.filter(p -> p.toString().endsWith(".seg")).findFirst().orElseThrow();
        }
        segmentName = seg.getFileName().toString();
        segment = Files.readAllBytes(seg);
        cursor = Files.readAllBytes(dir.resolve(CursorFile.NAME));
        recordEnds = new long[RECORDS];
        long end = SegmentFile.HEADER_BYTES;
        for (int i = 0; i < RECORDS; i++) {
            end += RecordCodec.encodedSize(sent.get(i));
            recordEnds[i] = end;
        }
        assertThat(end).isEqualTo(segment.length);
    }

    @Test
    void keepsExactPrefixWhenTruncatedAtRandomOffset() throws Exception {
        runTrials(1, (r, bytes) -> {
            int cut = r.nextInt(bytes.length);
            return new Damage(java.util.Arrays.copyOf(bytes, cut), recordsEndingBy(cut));
        });
    }

    @Test
    void keepsExactPrefixWhenGarbageRunsFromRandomPointToEnd() throws Exception {
        runTrials(2, (r, bytes) -> {
            byte[] d = bytes.clone();
            int from = r.nextInt(bytes.length);
            for (int i = from; i < d.length; i++) {
                d[i] = (byte) r.nextInt(256);
            }
            d[from] = (byte) ~bytes[from]; // the damage starts exactly at `from`
            return new Damage(d, recordsEndingBy(from));
        });
    }

    @Test
    void dropsOnlyTheLastRecordWhenOneOfItsBitsFlips() throws Exception {
        runTrials(3, (r, bytes) -> {
            byte[] d = bytes.clone();
            int start = (int) recordEnds[RECORDS - 2];
            int at = start + r.nextInt(bytes.length - start);
            d[at] ^= (byte) (1 << r.nextInt(8));
            return new Damage(d, RECORDS - 1);
        });
    }

    @Test
    void keepsRecordsBeforeOneWhoseLengthWasZeroed() throws Exception {
        runTrials(4, (r, bytes) -> {
            byte[] d = bytes.clone();
            int record = r.nextInt(RECORDS);
            int start = record == 0 ? SegmentFile.HEADER_BYTES : (int) recordEnds[record - 1];
            ByteBuffer.wrap(d).putInt(start, 0);
            return new Damage(d, record);
        });
    }

    @Test
    void dropsSegmentsThatFollowDamageInAnEarlierSegment() throws Exception {
        Path dir = tmp.resolve("multi");
        byte[] value = new byte[1000];
        List<Message> many = LongStream.range(0, 100).mapToObj(i -> SpillTestSupport.message(1, i, "k", value))
                .toList();
        SpillLogConfig cfg = config(dir).segmentBytes(16 * 1024).maxRecordBytes(8 * 1024).build();
        try (SpillLog log = SpillLog.open(cfg)) {
            appendAll(log, many);
        }
        List<Path> segs;
        try (Stream<Path> files = Files.list(dir)) {
            segs = files.filter(p -> p.toString().endsWith(".seg")).sorted(Comparator.naturalOrder()).toList();
        }
        assertThat(segs).hasSizeGreaterThan(3);
        Path second = segs.get(1);
        long secondBase = SegmentFile.parseBaseIndex(second);
        byte[] bytes = Files.readAllBytes(second);
        int firstRecordEnd = SegmentFile.HEADER_BYTES + RecordCodec.encodedSize(many.get(0));
        bytes[firstRecordEnd + 20] ^= 1; // damage the second record of the second segment
        Files.write(second, bytes);

        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(log.recoveryReport().actions()).hasSize(1 + segs.size() - 2);
            assertThat(readAll(log)).containsExactlyElementsOf(many.subList(0, (int) secondBase + 1));
        }
        try (SpillLog log = SpillLog.open(cfg)) {
            assertThat(log.recoveryReport().isClean()).isTrue();
        }
    }

    @Test
    void replaysEverythingWhenTheCursorFileIsDamaged() throws Exception {
        Path dir = tmp.resolve("cursor");
        Files.createDirectories(dir);
        Files.write(dir.resolve(segmentName), segment);
        byte[] bad = cursor.clone();
        for (int i = 0; i < bad.length; i += 64) { // both slots
            bad[i] ^= 0x40;
        }
        Files.write(dir.resolve(CursorFile.NAME), bad);
        try (SpillLog log = SpillLog.open(config(dir).build())) {
            assertThat(log.recoveryReport().actions()).anyMatch(a -> a.contains("damaged cursor file"));
            assertThat(readAll(log)).containsExactlyElementsOf(sent);
        }
    }

    private record Damage(byte[] bytes, int survivors) {}

    private int recordsEndingBy(long offset) {
        if (offset < SegmentFile.HEADER_BYTES) {
            return 0;
        }
        int n = 0;
        while (n < RECORDS && recordEnds[n] <= offset) {
            n++;
        }
        return n;
    }

    private void runTrials(long seed, BiFunction<Random, byte[], Damage> damage) throws Exception {
        Random r = new Random(seed);
        for (int trial = 0; trial < TRIALS; trial++) {
            Damage d = damage.apply(r, segment);
            Path dir = tmp.resolve("t" + trial);
            Files.createDirectories(dir);
            Files.write(dir.resolve(segmentName), d.bytes());
            Files.write(dir.resolve(CursorFile.NAME), cursor);
            String context = "trial " + trial + " (seed " + seed + "), expecting " + d.survivors() + " records";
            try (SpillLog log = SpillLog.open(config(dir).build())) {
                assertThat(readAll(log)).as(context).containsExactlyElementsOf(sent.subList(0, d.survivors()));
                assertThat(log.pendingMessages()).as(context).isEqualTo(d.survivors());
                assertThat(log.recoveryReport().isClean()).as(context)
                        .isEqualTo(d.bytes().length == recordEndOrHeader(d.survivors()));
            }
            try (SpillLog log = SpillLog.open(config(dir).build())) {
                assertThat(log.recoveryReport().isClean()).as(context + ", second open").isTrue();
                assertThat(readAll(log)).as(context + ", second open")
                        .containsExactlyElementsOf(sent.subList(0, d.survivors()));
            }
            deleteRecursively(dir);
        }
    }

    private long recordEndOrHeader(int survivors) {
        return survivors == 0 ? SegmentFile.HEADER_BYTES : recordEnds[survivors - 1];
    }

    private static void deleteRecursively(Path dir) throws IOException {
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            s.forEach(paths::add);
        }
        for (int i = paths.size() - 1; i >= 0; i--) {
            Files.delete(paths.get(i));
        }
    }
}
