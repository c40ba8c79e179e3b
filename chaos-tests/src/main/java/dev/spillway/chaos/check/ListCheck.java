package dev.spillway.chaos.check;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.LongFunction;

/**
 * Jepsen-style verdict over one or several Redis lists written by producers whose values read
 * {@code p<producer>-<sequence>} (unique per producer across all lists): what was acknowledged
 * but is absent (lost), present more than once (duplicated), out of sequence order within a
 * producer connection and list (reordered), never sent or in the wrong list (unexpected), or
 * refused by the relay with an error reply and present all the same (refusedPresent: a refused
 * request is all-or-nothing, none of its values may land).
 */
public record ListCheck(int present, int acked, List<String> lost, List<String> duplicated, List<String> reordered,
        List<String> unexpected, int resentDuplicates, int lostCount, int duplicatedCount, int reorderedCount,
        int unexpectedCount, List<String> refusedPresent, int refusedPresentCount) {

    /** The lists hold the first 20 of each kind (and a "... N more" line); the counts are whole. */
    public ListCheck(int present, int acked, List<String> lost, List<String> duplicated, List<String> reordered,
            List<String> unexpected, int resentDuplicates) {
        this(present, acked, lost, duplicated, reordered, unexpected, resentDuplicates, lost.size(),
                duplicated.size(), reordered.size(), unexpected.size(), List.of(), 0);
    }

    public boolean ok() {
        return lost.isEmpty() && duplicated.isEmpty() && reordered.isEmpty() && unexpected.isEmpty()
                && refusedPresent.isEmpty();
    }

    public static String value(int producer, long sequence) {
        return "p" + producer + "-" + sequence;
    }

    /**
     * @param list the list as read, head first
     * @param acked per producer, the sequences it had acknowledged
     * @param sent per producer, how many sequences it sent (acked or not)
     * @param lpush true when the producers used LPUSH, so the list holds each producer's values in reverse
     */
    public static ListCheck of(List<byte[]> list, Map<Integer, Set<Long>> acked, Map<Integer, Long> sent,
            boolean lpush) {
        return of(list, acked, sent, Map.of(), lpush);
    }

    /**
     * As {@link #of(List, Map, Map, boolean)}, where {@code resent} names, per producer, the
     * sequences it sent again after an unknown outcome: a second copy of those is allowed by the
     * promise (counted in {@link #resentDuplicates}), any other copy is a duplicate.
     */
    public static ListCheck of(List<byte[]> list, Map<Integer, Set<Long>> acked, Map<Integer, Long> sent,
            Map<Integer, Set<Long>> resent, boolean lpush) {
        return of(list, acked, sent, resent, Map.of(), lpush);
    }

    /**
     * The full check. Order is promised per producer <em>connection</em>: {@code epochStarts}
     * gives, per producer, the first sequence sent on each new connection, and order is checked
     * within each; re-sent sequences are left out of the order check (either copy may be first).
     */
    public static ListCheck of(List<byte[]> list, Map<Integer, Set<Long>> acked, Map<Integer, Long> sent,
            Map<Integer, Set<Long>> resent, Map<Integer, List<Long>> epochStarts, boolean lpush) {
        return of(list, "", acked, sent, resent, epochStarts, lpush);
    }

    /** As above for values written as {@code prefix + "p<producer>-<seq>"}; other values are not ours and are skipped. */
    public static ListCheck of(List<byte[]> list, String prefix, Map<Integer, Set<Long>> acked, Map<Integer, Long> sent,
            Map<Integer, Set<Long>> resent, Map<Integer, List<Long>> epochStarts, boolean lpush) {
        return ofKeys(Map.of("", list), lpush ? Set.of("") : Set.of(), prefix, acked, sent, resent, epochStarts,
                Map.of());
    }

    /**
     * The check over several lists written by the same producers, each value to one key: RPUSH
     * keys hold a producer's values in the order sent, LPUSH keys ({@code lpushKeys}) in reverse.
     * A value is lost when acknowledged and in no list; duplicated when present twice (in one
     * list or two) and not re-sent; reordered when, within one list and one producer connection
     * (see {@code epochStarts}), it comes before a value sent earlier; unexpected when it is not
     * a value the producer sent, or sits in another list than the one it was sent to
     * ({@code keyOf}: per producer, the key of each sequence; producers without one are not
     * checked for that).
     *
     * @param lists each key's list as read, head first
     */
    public static ListCheck ofKeys(Map<String, List<byte[]>> lists, Set<String> lpushKeys, String prefix,
            Map<Integer, Set<Long>> acked, Map<Integer, Long> sent, Map<Integer, Set<Long>> resent,
            Map<Integer, List<Long>> epochStarts, Map<Integer, ? extends LongFunction<String>> keyOf) {
        return ofKeys(lists, lpushKeys, prefix, acked, sent, resent, epochStarts, keyOf, Map.of());
    }

    /**
     * As above, where {@code refused} names, per producer, the sequences the relay refused with
     * an error reply: such a value found in any list is reported in {@link #refusedPresent}. A
     * refused sequence the producer had also sent before (re-sent after an unknown outcome) is
     * not checked: its earlier copy may have landed.
     */
    public static ListCheck ofKeys(Map<String, List<byte[]>> lists, Set<String> lpushKeys, String prefix,
            Map<Integer, Set<Long>> acked, Map<Integer, Long> sent, Map<Integer, Set<Long>> resent,
            Map<Integer, List<Long>> epochStarts, Map<Integer, ? extends LongFunction<String>> keyOf,
            Map<Integer, Set<Long>> refused) {
        int resentDuplicates = 0;
        int ours = 0;
        List<String> lost = new ArrayList<>();
        List<String> duplicated = new ArrayList<>();
        List<String> reordered = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String key : new TreeSet<>(lists.keySet())) {
            String where = key.isEmpty() ? "" : key + ": ";
            Map<String, Long> last = new HashMap<>();
            List<byte[]> ordered = lists.get(key);
            if (lpushKeys.contains(key)) {
                ordered = new ArrayList<>(ordered);
                Collections.reverse(ordered);
            }
            for (byte[] raw : ordered) {
                String full = new String(raw, StandardCharsets.UTF_8);
                if (!full.startsWith(prefix)) {
                    continue;
                }
                ours++;
                String v = full.substring(prefix.length());
                int dash = v.indexOf('-');
                if (!v.startsWith("p") || dash < 2) {
                    unexpected.add(where + v);
                    continue;
                }
                int producer;
                long seq;
                try {
                    producer = Integer.parseInt(v.substring(1, dash));
                    seq = Long.parseLong(v.substring(dash + 1));
                } catch (NumberFormatException e) {
                    unexpected.add(where + v);
                    continue;
                }
                if (seq < 0 || seq >= sent.getOrDefault(producer, 0L)) {
                    unexpected.add(where + v + " (never sent)");
                    continue;
                }
                LongFunction<String> keys = keyOf.get(producer);
                String sentTo = keys == null ? null : keys.apply(seq);
                if (sentTo != null && !sentTo.equals(key)) {
                    unexpected.add(where + v + " (sent to " + sentTo + ")");
                }
                boolean wasResent = resent.getOrDefault(producer, Set.of()).contains(seq);
                if (!seen.add(v)) {
                    if (wasResent) {
                        resentDuplicates++;
                    } else {
                        duplicated.add(where + v);
                    }
                    continue;
                }
                if (wasResent) {
                    continue; // either copy may come first
                }
                String connection = producer + "/" + epoch(epochStarts.getOrDefault(producer, List.of()), seq);
                Long prev = last.put(connection, seq);
                if (prev != null && seq < prev) {
                    reordered.add(where + v + " after " + value(producer, prev));
                }
            }
        }
        int ackedCount = 0;
        for (Map.Entry<Integer, Set<Long>> e : new TreeMap<>(acked).entrySet()) {
            for (long seq : new TreeSet<>(e.getValue())) {
                ackedCount++;
                if (!seen.contains(value(e.getKey(), seq))) {
                    LongFunction<String> keys = keyOf.get(e.getKey());
                    String sentTo = keys == null ? null : keys.apply(seq);
                    lost.add(sentTo == null ? value(e.getKey(), seq) : sentTo + ": " + value(e.getKey(), seq));
                }
            }
        }
        List<String> refusedPresent = new ArrayList<>();
        for (Map.Entry<Integer, Set<Long>> e : new TreeMap<>(refused).entrySet()) {
            Set<Long> again = resent.getOrDefault(e.getKey(), Set.of());
            for (long seq : new TreeSet<>(e.getValue())) {
                if (!again.contains(seq) && seen.contains(value(e.getKey(), seq))) {
                    LongFunction<String> keys = keyOf.get(e.getKey());
                    String sentTo = keys == null ? null : keys.apply(seq);
                    refusedPresent.add(sentTo == null ? value(e.getKey(), seq) : sentTo + ": " + value(e.getKey(), seq));
                }
            }
        }
        return new ListCheck(ours, ackedCount, cap(lost), cap(duplicated), cap(reordered), cap(unexpected),
                resentDuplicates, lost.size(), duplicated.size(), reordered.size(), unexpected.size(),
                cap(refusedPresent), refusedPresent.size());
    }

    /** How many connection starts precede {@code seq}. */
    private static int epoch(List<Long> starts, long seq) {
        int e = 0;
        for (long s : starts) {
            if (s <= seq) {
                e++;
            }
        }
        return e;
    }

    private static List<String> cap(List<String> l) {
        return l.size() <= 20 ? l : new ArrayList<>(l.subList(0, 20)) {
            {
                add("... " + (l.size() - 20) + " more");
            }
        };
    }

    @Override
    public String toString() {
        return "present=" + present + " acked=" + acked + " lost=" + lostCount + " " + lost + " duplicated="
                + duplicatedCount + " " + duplicated + " reordered=" + reorderedCount + " " + reordered + " unexpected="
                + unexpectedCount + " " + unexpected + " refusedPresent=" + refusedPresentCount + " " + refusedPresent
                + " resentDuplicates=" + resentDuplicates;
    }
}
