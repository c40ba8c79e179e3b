package dev.spillway.chaos.workload;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * K producers over the three protocols, all pushing to one list through one endpoint set; a
 * producer's id is unique across protocols so the checker can tell them apart.
 */
public final class Workload {

    private final List<Producer> producers = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final LatencyRecorder latency = new LatencyRecorder();

    /**
     * @param perProtocol producers per protocol (RESP, line, HTTP)
     * @param rate messages per second per producer
     */
    public static Workload of(String host, int respPort, int linePort, int httpPort, String key, int perProtocol,
            int rate, long maxPerProducer) {
        Workload w = new Workload();
        int id = 0;
        for (int i = 0; i < perProtocol; i++) {
            w.producers.add(new RespProducer(id++, host, respPort, key, rate, maxPerProducer, w.latency));
            w.producers.add(new LineProducer(id++, host, linePort, rate, maxPerProducer, w.latency));
            w.producers.add(new HttpProducer(id++, host, httpPort, key, rate, maxPerProducer, w.latency));
        }
        return w;
    }

    /**
     * Line and HTTP producers as {@link #of} makes them, and {@code pipelined} pipelining RESP
     * producers ({@link PipelinedRespProducer}: bursts of {@code depth} commands, 1-3 values
     * each, over {@code key:r0..r3} and {@code key:l0..l3}, {@code pipelinedRate} values/s each)
     * in place of the one-at-a-time RESP producers.
     */
    public static Workload withPipelinedResp(String host, int respPort, int linePort, int httpPort, String key,
            int perProtocol, int rate, int pipelined, int depth, int pipelinedRate, long maxPerProducer) {
        Workload w = new Workload();
        int id = 0;
        for (int i = 0; i < pipelined; i++) {
            w.producers.add(new PipelinedRespProducer(id++, host, respPort, key, depth, pipelinedRate, maxPerProducer,
                    w.latency));
        }
        for (int i = 0; i < perProtocol; i++) {
            w.producers.add(new LineProducer(id++, host, linePort, rate, maxPerProducer, w.latency));
            w.producers.add(new HttpProducer(id++, host, httpPort, key, rate, maxPerProducer, w.latency));
        }
        return w;
    }

    /**
     * Every list the producers write, mapped to true for those written with LPUSH: {@code key}
     * (the one list of the line, HTTP and one-at-a-time RESP producers) if any such producer
     * runs, and each pipelined producer's lists.
     */
    public Map<String, Boolean> lists(String key) {
        Map<String, Boolean> m = new java.util.TreeMap<>();
        for (Producer p : producers) {
            if (p.lists().isEmpty()) {
                m.put(key, false);
            }
            m.putAll(p.lists());
        }
        return m;
    }

    /** Per producer that spreads its values over several lists, the list of each sequence. */
    public Map<Integer, java.util.function.LongFunction<String>> keyOf() {
        Map<Integer, java.util.function.LongFunction<String>> m = new HashMap<>();
        for (Producer p : producers) {
            if (p.keyOf() != null) {
                m.put(p.id(), p.keyOf());
            }
        }
        return m;
    }

    /** The most commands any one connection had awaiting replies at once. */
    public int maxInFlight() {
        return producers.stream().mapToInt(Producer::maxInFlight).max().orElse(0);
    }

    /** Every value of this workload starts with {@code prefix}. */
    public Workload prefix(String prefix) {
        producers.forEach(p -> p.prefix(prefix));
        return this;
    }

    public Workload start() {
        for (Producer p : producers) {
            Thread t = new Thread(p, "producer-" + p.protocol() + "-" + p.id());
            t.start();
            threads.add(t);
        }
        return this;
    }

    public void phase(Producer.Phase phase) {
        producers.forEach(p -> p.phase(phase));
    }

    /** Stops every producer and waits for their last replies (bounded). */
    public void stop() throws InterruptedException {
        producers.forEach(Producer::stop);
        for (Thread t : threads) {
            t.join(60_000);
        }
    }

    public long ackedCount() {
        return producers.stream().mapToLong(p -> p.acked().size()).sum();
    }

    public Map<Integer, Set<Long>> acked() {
        Map<Integer, Set<Long>> m = new HashMap<>();
        producers.forEach(p -> m.put(p.id(), p.acked()));
        return m;
    }

    public Map<Integer, Set<Long>> resent() {
        Map<Integer, Set<Long>> m = new HashMap<>();
        producers.forEach(p -> m.put(p.id(), p.resent()));
        return m;
    }

    public Map<Integer, Long> sent() {
        Map<Integer, Long> m = new HashMap<>();
        producers.forEach(p -> m.put(p.id(), p.sent()));
        return m;
    }

    public Map<Integer, List<Long>> epochStarts() {
        Map<Integer, List<Long>> m = new HashMap<>();
        producers.forEach(p -> m.put(p.id(), p.epochStarts()));
        return m;
    }

    public List<String> errors() {
        List<String> all = new ArrayList<>();
        producers.forEach(p -> p.errors().forEach(e -> all.add(p.protocol() + " " + e)));
        return all;
    }

    /** Every producer's errors seen while no fault was being injected, each led by its protocol. */
    public List<String> errorsOutsideFaults() {
        List<String> all = new ArrayList<>();
        producers.forEach(p -> p.errorsOutsideFaults().forEach(e -> all.add(p.protocol() + " " + e)));
        return all;
    }

    /** Per producer, the sequences a relay refused with an error reply. */
    public Map<Integer, Set<Long>> refused() {
        Map<Integer, Set<Long>> m = new HashMap<>();
        producers.forEach(p -> m.put(p.id(), p.refused()));
        return m;
    }

    public long refusedCount() {
        return producers.stream().mapToLong(p -> p.refused().size()).sum();
    }

    private static final java.util.regex.Pattern VALUE = java.util.regex.Pattern.compile("p\\d+-\\d+: ");
    private static final int MAX_REASON_CHARS = 160;

    /**
     * Every producer-visible error counted by what it says: the protocol and the reply, without
     * the value and with each number but a leading one (an HTTP status) written {@code N} (one
     * reason whatever the byte counts in it), most frequent first. Beyond {@code max} reasons the rest are counted together under
     * {@code "(N other reasons)"}.
     */
    public Map<String, Long> errorReasons(int max) {
        Map<String, Long> counts = new HashMap<>();
        for (String e : errors()) {
            int space = e.indexOf(' ');
            String protocol = space < 0 ? "" : e.substring(0, space + 1);
            java.util.regex.Matcher m = VALUE.matcher(e);
            String said = m.find() ? e.substring(m.end()) : e.substring(space + 1);
            String reason = protocol + said.replaceAll("(?<=\\D)\\d+", "N"); // a leading HTTP status stays
            if (reason.length() > MAX_REASON_CHARS) {
                reason = reason.substring(0, MAX_REASON_CHARS) + "…";
            }
            counts.merge(reason, 1L, Long::sum);
        }
        List<Map.Entry<String, Long>> sorted = new ArrayList<>(counts.entrySet());
        sorted.sort(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        long rest = 0;
        for (int i = 0; i < sorted.size(); i++) {
            if (i < max) {
                out.put(sorted.get(i).getKey(), sorted.get(i).getValue());
            } else {
                rest += sorted.get(i).getValue();
            }
        }
        if (sorted.size() > max) {
            out.put("(" + (sorted.size() - max) + " other reasons)", rest);
        }
        return out;
    }

    public long reconnects() {
        return producers.stream().mapToLong(Producer::reconnects).sum();
    }

    public LatencyRecorder latency() {
        return latency;
    }

    public List<Producer> producers() {
        return List.copyOf(producers);
    }

    /** Waits until {@code n} more messages are acknowledged (bounded). */
    public void awaitAcks(long n, long timeoutMillis) throws InterruptedException {
        long target = ackedCount() + n;
        long deadline = System.currentTimeMillis() + timeoutMillis;
        while (ackedCount() < target && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
    }
}
