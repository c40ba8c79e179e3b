package dev.spillway.relay.spill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.Message;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Power cuts at thousands of moments. Each trial runs a random workload on a {@link SimulatedDisk}
 * — requests of one to three messages, waits for acknowledgements, replay reads and commits
 * (which delete segments), and now and then a failed write, fsync, directory sync, rename or
 * truncate, or a failed write or fsync whose repair fails too, or a disk too small to hold the
 * spill — and cuts the power at a random operation. The
 * disk then holds what it durably held plus any prefix, possibly torn, of what came after; the
 * log is opened on that, and must:
 * <ul>
 *   <li>open without failing;
 *   <li>hand out, from its replay position, every acknowledged message not yet committed
 *       exactly once and in order, and messages of whole requests only (an unacknowledged
 *       request may be there, but all of it or nothing);
 *   <li>resume at a position no earlier than the last commit that returned;
 *   <li>keep all of that, and what is acknowledged after, across a second open.
 * </ul>
 */
class SpillLogPowerCutTest {

    private static final Path DIR = Path.of("/simulated/spill");
    private static final int TRIALS = 3000;
    private static final int STEPS = 200;

    private final Map<Long, Long> requestOf = new HashMap<>();
    private final Map<Long, List<Long>> requests = new HashMap<>();

    @Test
    void everyAcknowledgedMessageSurvivesAPowerCutAtAnyMoment() throws Exception {
        long seed = Long.getLong("spillway.powercut.seed", 20261128L);
        Random seeds = new Random(seed);
        long start = System.nanoTime();
        long recordsChecked = 0;
        long opsMax = 0;
        Map<String, Integer> recoveryActions = new HashMap<>();
        int cutsDuringWorkload = 0;
        int secondCuts = 0;
        for (int trial = 0; trial < TRIALS; trial++) {
            long trialSeed = seeds.nextLong();
            Trial t = new Trial(trial, trialSeed);
            try {
                t.run();
            } catch (AssertionError | Exception e) {
                throw new AssertionError("trial " + trial + " (seed " + trialSeed + ", -Dspillway.powercut.seed="
                        + seed + "), power cut at operation " + t.cutAt + ": " + e.getMessage() + "; recovery: "
                        + t.actions + "; last commit returned " + t.lastCommitReturned + ", tried "
                        + t.lastCommitTried, e);
            }
            recordsChecked += t.checked;
            opsMax = Math.max(opsMax, t.ops);
            if (t.cutDuringWorkload) {
                cutsDuringWorkload++;
            }
            if (t.secondCut) {
                secondCuts++;
            }
            for (String a : t.actions) {
                recoveryActions.merge(a.replaceAll(" .*", ""), 1, Integer::sum);
            }
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.printf("power cuts: %d trials (%d cut while the workload ran, the rest after it), %d second "
                + "cuts during or right after recovery, %d records checked, up to %d disk operations a trial, "
                + "recovery actions %s, %d ms%n", TRIALS, cutsDuringWorkload, secondCuts, recordsChecked, opsMax,
                recoveryActions, millis);
        assertThat(cutsDuringWorkload).as("most power cuts land while the log is busy").isGreaterThan(TRIALS / 2);
    }

    private final class Trial {
        final int number;
        final Random r;
        long cutAt;
        long ops;
        long checked;
        boolean cutDuringWorkload;
        boolean secondCut;
        List<String> actions = List.of();

        // the model
        final List<Message> sent = new ArrayList<>();
        final Map<Long, Message> bySequence = new HashMap<>();
        final Map<Long, Long> ackedIndex = new java.util.concurrent.ConcurrentHashMap<>(); // sequence → index
        final Set<Long> refused = java.util.concurrent.ConcurrentHashMap.newKeySet();
        long lastCommitReturned;
        long lastCommitTried;
        long nextSequence;
        int nextRequest;

        Trial(int number, long seed) {
            this.number = number;
            this.r = new Random(seed);
        }

        SpillLogConfig config() {
            return SpillLogConfig.builder(DIR).segmentBytes(2048 + r.nextInt(4096)).maxRecordBytes(1024)
                    .maxBytes(256 * 1024).reserveBytes(64 * 1024).flushMaxWait(java.time.Duration.ofMillis(r.nextInt(3)))
                    .build();
        }

        void run() throws Exception {
            // a small disk in one trial of five: the spill runs into ENOSPC by itself
            long capacity = r.nextInt(5) == 0 ? 140 * 1024 + r.nextInt(64 * 1024) : Long.MAX_VALUE / 4;
            SimulatedDisk disk = new SimulatedDisk(DIR, new Random(r.nextLong()), capacity);
            cutAt = 1 + r.nextInt(180);
            disk.crashAt(cutAt);
            SpillLogConfig cfg = config();
            List<CompletableFuture<Long>> futures = new ArrayList<>();
            List<Message> futureMessages = new ArrayList<>();
            SpillLog log = null;
            int doubleFailureAt = r.nextInt(4) == 0 ? r.nextInt(STEPS) : -1; // in one trial of four
            try {
                log = SpillLog.open(cfg, disk, new MetricRegistry());
                for (int step = 0; step < STEPS && !disk.crashed(); step++) {
                    int dice = r.nextInt(100);
                    if (dice < 55) {
                        append(log, disk, futures, futureMessages);
                    } else if (dice < 70) {
                        settle(futures, futureMessages);
                    } else if (dice < 92) {
                        replay(log);
                    } else {
                        SimulatedDisk.Failure[] kinds = SimulatedDisk.Failure.values();
                        SimulatedDisk.Failure kind = kinds[r.nextInt(kinds.length)];
                        if (kind != SimulatedDisk.Failure.TRUNCATE_EIO) { // that one only with another, below
                            disk.failNext(kind);
                        }
                    }
                    if (step == doubleFailureAt) { // a failure, and the repair after it fails too: the log must stop
                        disk.failNext(r.nextBoolean() ? SimulatedDisk.Failure.FSYNC_EIO : SimulatedDisk.Failure.WRITE_EIO,
                                SimulatedDisk.Failure.TRUNCATE_EIO);
                    }
                }
                cutDuringWorkload = disk.crashed();
            } catch (IOException | SpillException e) {
                // open itself met the power cut
                cutDuringWorkload = disk.crashed();
            }
            Map<String, byte[]> image = disk.crashImage();
            if (log != null) {
                try {
                    log.close();
                } catch (IOException | SpillException e) {
                    // the power is gone
                }
            }
            settle(futures, futureMessages);
            ops = disk.operations();

            // reopen on what the disk held and check; use it; in one trial of three the power goes
            // again (during recovery, or while appending after it); reopen and check again
            SimulatedDisk after = new SimulatedDisk(DIR, new Random(r.nextLong()), Long.MAX_VALUE / 4, image);
            boolean cutAgain = r.nextInt(3) == 0;
            if (cutAgain) {
                after.crashAt(1 + r.nextInt(40));
            }
            List<Message> recovered = null;
            long resumedAt = -1;
            int sentBefore = sent.size();
            List<CompletableFuture<Long>> moreFutures = new ArrayList<>();
            List<Message> moreMessages = new ArrayList<>();
            try (SpillLog reopened = SpillLog.open(cfg, after, new MetricRegistry())) {
                actions = reopened.recoveryReport().actions();
                resumedAt = reopened.cursor().committedIndex();
                recovered = SpillTestSupport.readAll(reopened);
                check(resumedAt, recovered);
                reopened.cursor().rewind();
                for (int i = 0; i < 5 && !after.crashed(); i++) {
                    append(reopened, after, moreFutures, moreMessages);
                    settle(moreFutures, moreMessages);
                }
            } catch (IOException | SpillException e) {
                if (!after.crashed()) {
                    throw e;
                }
            }
            settle(moreFutures, moreMessages);
            if (after.crashed()) {
                secondCut = true;
                Map<String, byte[]> second = after.crashImage();
                try (SpillLog third = SpillLog.open(cfg, new SimulatedDisk(DIR, new Random(r.nextLong()),
                        Long.MAX_VALUE / 4, second), new MetricRegistry())) {
                    check(third.cursor().committedIndex(), SpillTestSupport.readAll(third));
                }
                return;
            }
            List<Message> expected = new ArrayList<>(recovered);
            for (Message m : sent.subList(sentBefore, sent.size())) {
                assertThat(ackedIndex).as("appended after the reopen").containsKey(m.sequence());
                expected.add(m);
            }
            Map<String, byte[]> closed = after.crashImage(); // a clean close: everything durable
            try (SpillLog again = SpillLog.open(cfg, new SimulatedDisk(DIR, new Random(1), Long.MAX_VALUE / 4,
                    closed), new MetricRegistry())) {
                assertThat(again.cursor().committedIndex()).as("position after a second open").isEqualTo(resumedAt);
                assertThat(SpillTestSupport.readAll(again)).as("second open keeps everything")
                        .containsExactlyElementsOf(expected);
            }
        }

        Message message(int request) {
            long seq = nextSequence++;
            byte[] value = new byte[r.nextInt(300)];
            r.nextBytes(value);
            Message m = new Message(number, seq, r.nextBoolean() ? Message.ListOp.RPUSH : Message.ListOp.LPUSH,
                    ("k" + r.nextInt(3)).getBytes(StandardCharsets.UTF_8), value);
            bySequence.put(seq, m);
            requestOf.put(key(seq), (long) request);
            requests.computeIfAbsent(key(request), k -> new ArrayList<>()).add(seq);
            return m;
        }

        long key(long v) {
            return ((long) number << 32) ^ v;
        }

        void append(SpillLog log, SimulatedDisk disk, List<CompletableFuture<Long>> futures,
                List<Message> futureMessages) {
            int request = nextRequest++;
            List<Message> ms = new ArrayList<>();
            int n = 1 + r.nextInt(3);
            for (int i = 0; i < n; i++) {
                ms.add(message(request));
            }
            sent.addAll(ms);
            List<CompletableFuture<Long>> f;
            try {
                f = log.appendAll(ms);
            } catch (SpillException e) {
                // full, disk full, or failed: refused at once, nothing of it may appear
                ms.forEach(m -> refused.add(m.sequence()));
                return;
            }
            for (int i = 0; i < f.size(); i++) {
                long seq = ms.get(i).sequence();
                f.get(i).whenComplete((index, e) -> {
                    // a refusal while the power is on is a promise that the message will never
                    // appear; an unknown outcome, or a failure the power cut caused, is not
                    if (e != null && !(e instanceof SpillOutcomeUnknownException) && !disk.crashed()) {
                        refused.add(seq);
                    }
                });
            }
            futures.addAll(f);
            futureMessages.addAll(ms);
        }

        void settle(List<CompletableFuture<Long>> futures, List<Message> futureMessages) throws Exception {
            Map<Long, Boolean> requestAcked = new HashMap<>();
            for (int i = 0; i < futures.size(); i++) {
                long seq = futureMessages.get(i).sequence();
                boolean ok;
                try {
                    long index = futures.get(i).get(10, TimeUnit.SECONDS);
                    ackedIndex.put(seq, index);
                    ok = true;
                } catch (ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(SpillException.class);
                    ok = false;
                } catch (TimeoutException e) {
                    fail("an append neither acknowledged nor failed within 10 s");
                    return;
                }
                Boolean other = requestAcked.put(requestOf.get(key(seq)), ok);
                assertThat(other == null || other == ok).as("request of message %d acknowledged in part", seq)
                        .isTrue();
            }
            futures.clear();
            futureMessages.clear();
        }

        void replay(SpillLog log) {
            try {
                List<SpilledMessage> batch = log.cursor().read(1 + r.nextInt(20), 1 << 20);
                if (batch.isEmpty()) {
                    return;
                }
                if (r.nextInt(4) == 0) {
                    log.cursor().rewind(); // a failed Redis write
                    return;
                }
                long upTo = batch.get(batch.size() - 1).index() + 1;
                // a commit that fails may still reach the disk: the highest one tried bounds the position
                lastCommitTried = Math.max(lastCommitTried, upTo);
                log.cursor().commit(upTo);
                lastCommitReturned = upTo;
            } catch (IOException | SpillException e) {
                // the power went, or an injected failure: the commit may or may not be durable
            }
        }

        /** The recovered records against the model. */
        void check(long resumedAt, List<Message> recovered) {
            for (Message m : recovered) {
                assertThat(refused).as("message %d was refused, yet recovered", m.sequence())
                        .doesNotContain(m.sequence());
            }
            assertThat(resumedAt).as("resumes no earlier than the last commit that returned")
                    .isGreaterThanOrEqualTo(lastCommitReturned);
            assertThat(resumedAt).as("resumes no later than the last commit tried")
                    .isLessThanOrEqualTo(Math.max(lastCommitReturned, lastCommitTried));
            Set<Long> seen = new HashSet<>();
            Map<Long, Integer> position = new HashMap<>();
            for (int i = 0; i < recovered.size(); i++) {
                Message m = recovered.get(i);
                assertThat(m.instance()).isEqualTo(number);
                assertThat(seen.add(m.sequence())).as("message %d recovered twice", m.sequence()).isTrue();
                Message original = bySequence.get(m.sequence());
                assertThat(original).as("message %d was never appended", m.sequence()).isNotNull();
                assertThat(m).as("message %d recovered with other contents", m.sequence()).isEqualTo(original);
                position.put(m.sequence(), i);
                Long index = ackedIndex.get(m.sequence());
                if (index != null) {
                    assertThat(resumedAt + i).as("index of acknowledged message %d", m.sequence()).isEqualTo(index);
                }
            }
            // every acknowledged message at or past the resume position is there, in order
            long expected = 0;
            for (Map.Entry<Long, Long> e : ackedIndex.entrySet()) {
                if (e.getValue() >= resumedAt) {
                    assertThat(position).as("acknowledged message %d (index %d) is lost", e.getKey(), e.getValue())
                            .containsKey(e.getKey());
                    expected++;
                }
            }
            // whole requests only: a request is there with all its messages, or (at the edge of
            // the replay position) with its tail, never with a hole or without its tail
            for (Message m : recovered) {
                List<Long> members = requests.get(key(requestOf.get(key(m.sequence()))));
                int last = members.size() - 1;
                assertThat(position).as("request of message %d recovered without its last message", m.sequence())
                        .containsKey(members.get(last));
            }
            // in the order they were appended
            long previous = -1;
            for (Message m : recovered) {
                assertThat(m.sequence()).as("order").isGreaterThan(previous);
                previous = m.sequence();
            }
            checked += recovered.size();
            assertThat(recovered.size()).isGreaterThanOrEqualTo((int) expected);
        }
    }
}
