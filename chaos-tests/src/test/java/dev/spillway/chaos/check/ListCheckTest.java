package dev.spillway.chaos.check;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/**
 * The checker itself, on hand-made lists: a clean history passes, and each kind of violation
 * (a missing acknowledged value, a copy that was never re-sent, a reorder in an LPUSH list, a
 * value in the wrong list or never sent, a value the relay refused found in a list) fails and is
 * named.
 */
class ListCheckTest {

    private static final String PREFIX = "t:";

    /**
     * Producer 0 sent sequences 0..5: 0,1 → q:r0 (RPUSH), 2,3 → q:l0 (LPUSH, one command of two
     * values), 4,5 → q:r0. Producer 1 sent 0..2, all → q:l0.
     */
    private static final Map<Integer, LongFunction<String>> KEY_OF = Map.of(
            0, seq -> seq == 2 || seq == 3 ? "q:l0" : "q:r0",
            1, seq -> "q:l0");
    private static final Map<Integer, Long> SENT = Map.of(0, 6L, 1, 3L);
    private static final Set<String> LPUSH = Set.of("q:l0");

    private static List<byte[]> list(String... values) {
        return Arrays.stream(values).map(v -> (PREFIX + v).getBytes(StandardCharsets.UTF_8)).toList();
    }

    private static Map<Integer, Set<Long>> allAcked() {
        return Map.of(0, Set.of(0L, 1L, 2L, 3L, 4L, 5L), 1, Set.of(0L, 1L, 2L));
    }

    /** What Redis holds after a clean run: LPUSH q:l0 p0-2 p0-3, then p1-0.. one at a time, interleaved. */
    private static Map<String, List<byte[]>> clean() {
        Map<String, List<byte[]>> m = new HashMap<>();
        m.put("q:r0", list("p0-0", "p0-1", "p0-4", "p0-5"));
        // pushed in this order: p1-0, p0-2, p0-3 (one LPUSH with two values), p1-1, p1-2 → head first:
        m.put("q:l0", list("p1-2", "p1-1", "p0-3", "p0-2", "p1-0"));
        return m;
    }

    private static ListCheck check(Map<String, List<byte[]>> lists, Map<Integer, Set<Long>> acked,
            Map<Integer, Set<Long>> resent, Map<Integer, List<Long>> epochs) {
        return ListCheck.ofKeys(lists, LPUSH, PREFIX, acked, SENT, resent, epochs, KEY_OF);
    }

    @Test
    void aCleanHistoryOverSeveralKeysPasses() {
        ListCheck c = check(clean(), allAcked(), Map.of(), Map.of());
        assertThat(c.ok()).as(c.toString()).isTrue();
        assertThat(c.present()).isEqualTo(9);
        assertThat(c.acked()).isEqualTo(9);
    }

    @Test
    void otherRunsValuesAreSkipped() {
        Map<String, List<byte[]>> lists = clean();
        List<byte[]> r0 = new java.util.ArrayList<>(lists.get("q:r0"));
        r0.add(0, "someone-else".getBytes(StandardCharsets.UTF_8));
        lists.put("q:r0", r0);
        assertThat(check(lists, allAcked(), Map.of(), Map.of()).ok()).isTrue();
    }

    @Test
    void aMissingAcknowledgedValueIsLost() {
        Map<String, List<byte[]>> lists = clean();
        lists.put("q:r0", list("p0-0", "p0-1", "p0-5")); // p0-4 acked, gone
        ListCheck c = check(lists, allAcked(), Map.of(), Map.of());
        assertThat(c.ok()).isFalse();
        assertThat(c.lost()).containsExactly("q:r0: p0-4");
        assertThat(c.lostCount()).isEqualTo(1);
        assertThat(c.duplicated()).isEmpty();
        assertThat(c.reordered()).isEmpty();
    }

    @Test
    void aMissingValueThatWasNeverAcknowledgedIsNotLost() {
        Map<String, List<byte[]>> lists = clean();
        lists.put("q:r0", list("p0-0", "p0-1", "p0-5"));
        Map<Integer, Set<Long>> acked = Map.of(0, Set.of(0L, 1L, 2L, 3L, 5L), 1, Set.of(0L, 1L, 2L));
        assertThat(check(lists, acked, Map.of(), Map.of()).ok()).isTrue();
    }

    @Test
    void aSecondCopyThatWasNeverResentIsADuplicate() {
        Map<String, List<byte[]>> lists = clean();
        lists.put("q:r0", list("p0-0", "p0-1", "p0-4", "p0-4", "p0-5"));
        ListCheck c = check(lists, allAcked(), Map.of(), Map.of());
        assertThat(c.ok()).isFalse();
        assertThat(c.duplicated()).containsExactly("q:r0: p0-4");
        assertThat(c.lost()).isEmpty();
    }

    @Test
    void aSecondCopyOfAResentValueIsAllowed() {
        Map<String, List<byte[]>> lists = clean();
        // p0-4 and p0-5 were unanswered on the first connection and re-sent on a second one
        lists.put("q:r0", list("p0-0", "p0-1", "p0-4", "p0-4", "p0-5"));
        ListCheck c = check(lists, allAcked(), Map.of(0, Set.of(4L, 5L)), Map.of(0, List.of(4L)));
        assertThat(c.ok()).as(c.toString()).isTrue();
        assertThat(c.resentDuplicates()).isEqualTo(1);
    }

    @Test
    void aDuplicateAcrossTwoListsIsCaught() {
        Map<String, List<byte[]>> lists = clean();
        lists.put("q:l0", list("p1-2", "p1-1", "p0-3", "p0-2", "p0-1", "p1-0"));
        ListCheck c = check(lists, allAcked(), Map.of(), Map.of());
        assertThat(c.ok()).isFalse();
        assertThat(c.duplicated()).containsExactly("q:r0: p0-1");
        assertThat(c.unexpected()).containsExactly("q:l0: p0-1 (sent to q:r0)");
    }

    @Test
    void aReorderInAnLpushListIsCaught() {
        Map<String, List<byte[]>> lists = clean();
        // LPUSH of p1-1 then p1-2 must leave p1-2 nearer the head; here p1-1 is: it landed after p1-2
        lists.put("q:l0", list("p1-1", "p1-2", "p0-3", "p0-2", "p1-0"));
        ListCheck c = check(lists, allAcked(), Map.of(), Map.of());
        assertThat(c.ok()).isFalse();
        assertThat(c.reordered()).containsExactly("q:l0: p1-1 after p1-2");
        assertThat(c.lost()).isEmpty();
        assertThat(c.duplicated()).isEmpty();
    }

    @Test
    void anLpushListReadAsIfItWereRpushedIsAllReordered() {
        ListCheck c = ListCheck.ofKeys(clean(), Set.of(), PREFIX, allAcked(), SENT, Map.of(), Map.of(), KEY_OF);
        assertThat(c.reordered()).isNotEmpty();
    }

    @Test
    void aReorderWithinOneMultiValueLpushIsCaught() {
        Map<String, List<byte[]>> lists = clean();
        // LPUSH q:l0 p0-2 p0-3 leaves p0-3 at the head side; p0-2 first means the values were swapped
        lists.put("q:l0", list("p1-2", "p1-1", "p0-2", "p0-3", "p1-0"));
        ListCheck c = check(lists, allAcked(), Map.of(), Map.of());
        assertThat(c.reordered()).containsExactly("q:l0: p0-2 after p0-3");
    }

    @Test
    void aReorderInAnRpushListIsCaught() {
        Map<String, List<byte[]>> lists = clean();
        lists.put("q:r0", list("p0-0", "p0-4", "p0-1", "p0-5"));
        ListCheck c = check(lists, allAcked(), Map.of(), Map.of());
        assertThat(c.reordered()).containsExactly("q:r0: p0-1 after p0-4");
    }

    @Test
    void orderIsPromisedPerConnectionOnly() {
        Map<String, List<byte[]>> lists = clean();
        // p0-0, p0-1 went out on the first connection; p0-4, p0-5 on a second one (epoch starting at 2)
        // and landed first: a spill on the first relay replayed later is allowed to do that
        lists.put("q:r0", list("p0-4", "p0-5", "p0-0", "p0-1"));
        ListCheck c = check(lists, allAcked(), Map.of(), Map.of(0, List.of(2L)));
        assertThat(c.ok()).as(c.toString()).isTrue();
        assertThat(check(lists, allAcked(), Map.of(), Map.of()).reordered()).isNotEmpty();
    }

    @Test
    void valuesNeverSentOrMalformedOrInTheWrongListAreUnexpected() {
        Map<String, List<byte[]>> lists = clean();
        lists.put("q:r0", list("p0-0", "p0-1", "p0-4", "p0-5", "p0-6", "p9-0", "garbage", "p0-3"));
        lists.put("q:l0", list("p1-2", "p1-1", "p0-2", "p1-0"));
        ListCheck c = check(lists, allAcked(), Map.of(), Map.of());
        assertThat(c.ok()).isFalse();
        assertThat(c.unexpected()).containsExactly("q:r0: p0-6 (never sent)", "q:r0: p9-0 (never sent)",
                "q:r0: garbage", "q:r0: p0-3 (sent to q:l0)");
        assertThat(c.lost()).isEmpty();
    }

    @Test
    void aRefusedValueFoundInAListIsNamedUnlessItWasSentBefore() {
        // producer 0's LPUSH of p0-2 p0-3 was refused, yet both landed; producer 1's p1-1 was refused
        // on a second try after an unknown outcome (its first copy may have landed)
        Map<Integer, Set<Long>> acked = Map.of(0, Set.of(0L, 1L, 4L, 5L), 1, Set.of(0L, 2L));
        Map<Integer, Set<Long>> refused = Map.of(0, Set.of(2L, 3L), 1, Set.of(1L));
        ListCheck c = ListCheck.ofKeys(clean(), LPUSH, PREFIX, acked, SENT, Map.of(1, Set.of(1L)), Map.of(), KEY_OF,
                refused);
        assertThat(c.ok()).isFalse();
        assertThat(c.refusedPresent()).containsExactly("q:l0: p0-2", "q:l0: p0-3");
        assertThat(c.refusedPresentCount()).isEqualTo(2);
        assertThat(c.lost()).isEmpty();

        Map<String, List<byte[]>> without = clean();
        without.put("q:l0", list("p1-2", "p1-1", "p1-0"));
        ListCheck clean = ListCheck.ofKeys(without, LPUSH, PREFIX, acked, SENT, Map.of(1, Set.of(1L)), Map.of(),
                KEY_OF, refused);
        assertThat(clean.ok()).as(clean.toString()).isTrue();
    }

    @Test
    void countsAreWholeWhenTheListsAreCapped() {
        Map<String, List<byte[]>> lists = Map.of("q:r0", List.of());
        Map<Integer, Set<Long>> acked = Map.of(0, java.util.stream.LongStream.range(0, 6).boxed()
                .collect(java.util.stream.Collectors.toSet()));
        ListCheck c = ListCheck.ofKeys(lists, Set.of(), PREFIX, acked, Map.of(0, 6L), Map.of(), Map.of(), Map.of());
        assertThat(c.lostCount()).isEqualTo(6);
        assertThat(c.lost()).hasSize(6);
    }

    @Test
    void theSingleListFormStillWorks() {
        List<byte[]> l = list("p0-0", "p0-2", "p0-1");
        ListCheck c = ListCheck.of(l, PREFIX, Map.of(0, Set.of(0L, 1L, 2L)), Map.of(0, 3L), Map.of(), Map.of(), false);
        assertThat(c.reordered()).containsExactly("p0-1 after p0-2");
        ListCheck lp = ListCheck.of(list("p0-2", "p0-1", "p0-0"), PREFIX, Map.of(0, Set.of(0L, 1L, 2L)),
                Map.of(0, 3L), Map.of(), Map.of(), true);
        assertThat(lp.ok()).isTrue();
    }
}
