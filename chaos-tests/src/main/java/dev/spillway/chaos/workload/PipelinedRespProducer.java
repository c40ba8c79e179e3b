package dev.spillway.chaos.workload;

import dev.spillway.chaos.check.ListCheck;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/**
 * A Redis-protocol producer that pipelines, as a busy application's client does: on one
 * connection it writes bursts of {@code depth} commands back to back without waiting for
 * replies, and keeps up to {@code 2 × depth} commands unanswered (so at least {@code depth} are
 * in flight after every burst, and a full window while the relay is slow). Its commands spread
 * over eight lists — {@code <key>:r0..r3} written with RPUSH and {@code <key>:l0..l3} with
 * LPUSH, never both on one list, so that order stays checkable — and carry 1 to 3 values each.
 * Values read {@code p<id>-<seq>}, one sequence per value across all lists.
 *
 * <p>The relay's reply {@code :n}, n the command's number of values, acknowledges them all; an
 * error reply is a refusal the producer saw (recorded in {@link #errors()}). On an unknown
 * outcome — the connection broke, or the oldest command had no reply within 10 s — it reconnects
 * (through the load balancer, perhaps to another relay) and re-sends, in their order, every
 * command still unanswered; values of commands that had reached the wire are recorded as
 * re-sent (they may legitimately land twice), and the new connection starts a new epoch for
 * the order check. One thread, non-blocking I/O; every wait is bounded.
 */
public final class PipelinedRespProducer extends Producer {

    /** RPUSH lists and LPUSH lists per producer. */
    public static final int LISTS_PER_KIND = 4;
    private static final long REPLY_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long STOP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final int MAX_CONNECT_ATTEMPTS = 600; // 50 ms apart: 30 s without any relay answering
    private static final double MEAN_VALUES_PER_COMMAND = 2.0;

    private final String host;
    private final int port;
    private final int depth;
    private final int valuesPerSecond;
    private final long maxValues;
    private final List<String> keys = new ArrayList<>();
    private final Random random;
    /** Per sequence, the index in {@link #keys} it was sent to; grown by the sending thread only. */
    private volatile byte[] keyIndex = new byte[1 << 12];
    private volatile int maxInFlight;

    /**
     * @param key the lists are {@code key:r0..r3} (RPUSH) and {@code key:l0..l3} (LPUSH)
     * @param depth commands per burst, written back to back (at least 8 for a real pipeline)
     * @param valuesPerSecond the pace: bursts are spaced so that this many values go out per second
     * @param maxValues stop after this many values
     */
    public PipelinedRespProducer(int id, String host, int port, String key, int depth, int valuesPerSecond,
            long maxValues, LatencyRecorder latency) {
        super(id, valuesPerSecond, maxValues, latency);
        if (depth < 1 || valuesPerSecond < 1) {
            throw new IllegalArgumentException("depth and rate must be positive: " + depth + ", " + valuesPerSecond);
        }
        this.host = host;
        this.port = port;
        this.depth = depth;
        this.valuesPerSecond = valuesPerSecond;
        this.maxValues = maxValues;
        for (int i = 0; i < LISTS_PER_KIND; i++) {
            keys.add(key + ":r" + i);
        }
        for (int i = 0; i < LISTS_PER_KIND; i++) {
            keys.add(key + ":l" + i);
        }
        this.random = new Random(0x5EED_0000L ^ id);
    }

    private static boolean isLpush(int keyIndex) {
        return keyIndex >= LISTS_PER_KIND;
    }

    @Override
    public Map<String, Boolean> lists() {
        Map<String, Boolean> m = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            m.put(keys.get(i), isLpush(i));
        }
        return m;
    }

    @Override
    public LongFunction<String> keyOf() {
        return seq -> {
            byte[] k = keyIndex;
            return seq >= 0 && seq < sent.get() && seq < k.length ? keys.get(k[(int) seq]) : null;
        };
    }

    @Override
    public int maxInFlight() {
        return maxInFlight;
    }

    @Override
    public String protocol() {
        return "resp-pipelined";
    }

    @Override
    protected boolean send(String value) {
        throw new UnsupportedOperationException("a pipelined producer runs its own loop");
    }

    @Override
    protected void reconnect() {
        // its own loop reconnects
    }

    @Override
    protected void close() {
        // its own loop closes
    }

    @Override
    public void run() {
        ArrayDeque<PipelinedCommand> outstanding = new ArrayDeque<>();
        ArrayDeque<PipelinedCommand> toWrite = new ArrayDeque<>();
        ByteBuffer in = ByteBuffer.allocate(1 << 16);
        long seq = 0;
        long interval = Math.max(1, (long) (depth * MEAN_VALUES_PER_COMMAND * 1e9 / valuesPerSecond));
        long nextBurst = System.nanoTime();
        long stopDeadline = 0;
        int connectFailures = 0;
        boolean connectedBefore = false;
        SocketChannel ch = null;
        SelectionKey key = null;
        try (Selector selector = Selector.open()) {
            while (true) {
                long now = System.nanoTime();
                if (stopping() || seq >= maxValues) {
                    if (outstanding.isEmpty()) {
                        break;
                    }
                    if (stopDeadline == 0) {
                        stopDeadline = now + STOP_GRACE_NANOS;
                    } else if (now > stopDeadline) {
                        giveUp(outstanding, toWrite, "no reply within 30 s of the producer's stop");
                        break;
                    }
                }
                if (ch == null) {
                    try {
                        ch = SocketChannel.open();
                        ch.socket().connect(new InetSocketAddress(host, port), 2_000);
                        ch.socket().setTcpNoDelay(true);
                        ch.configureBlocking(false);
                        key = ch.register(selector, SelectionKey.OP_READ);
                    } catch (IOException e) {
                        closeQuietly(ch);
                        ch = null;
                        if (++connectFailures > MAX_CONNECT_ATTEMPTS) {
                            giveUp(outstanding, toWrite, "no connection after " + connectFailures + " attempts: " + e);
                            connectFailures = 0;
                        }
                        TimeUnit.MILLISECONDS.sleep(50);
                        continue;
                    }
                    connectFailures = 0;
                    if (connectedBefore) {
                        long start = outstanding.isEmpty() ? seq : outstanding.peekFirst().firstSeq;
                        if (epochStarts.isEmpty() || epochStarts.get(epochStarts.size() - 1) != start) {
                            epochStarts.add(start); // this and every later sequence: a new connection
                        }
                    }
                    connectedBefore = true;
                    in.clear();
                    toWrite.clear();
                    for (PipelinedCommand c : outstanding) {
                        if (c.reachedWire()) {
                            for (int i = 0; i < c.count; i++) {
                                resent.add(c.firstSeq + i);
                            }
                        }
                        c.rewind(now);
                        toWrite.add(c);
                    }
                }
                if (!stopping() && seq < maxValues && now >= nextBurst && outstanding.size() <= depth) {
                    for (int i = 0; i < depth && seq < maxValues; i++) {
                        PipelinedCommand c = command(seq, now);
                        seq += c.count;
                        sent.set(seq);
                        outstanding.add(c);
                        toWrite.add(c);
                    }
                    nextBurst = Math.max(nextBurst + interval, now - interval);
                    maxInFlight = Math.max(maxInFlight, outstanding.size());
                }
                try {
                    while (!toWrite.isEmpty()) {
                        PipelinedCommand c = toWrite.peekFirst();
                        ch.write(c.wire);
                        if (c.wire.hasRemaining()) {
                            break;
                        }
                        toWrite.pollFirst();
                    }
                    key.interestOps(SelectionKey.OP_READ | (toWrite.isEmpty() ? 0 : SelectionKey.OP_WRITE));
                    long waitMs = Math.max(1, Math.min(20, (nextBurst - System.nanoTime()) / 1_000_000));
                    selector.select(waitMs);
                    selector.selectedKeys().clear();
                    int n = ch.read(in);
                    if (n < 0) {
                        throw new EOFException("connection closed with " + outstanding.size() + " commands unanswered");
                    }
                    in.flip();
                    readReplies(in, outstanding);
                    in.compact();
                    if (!outstanding.isEmpty() && System.nanoTime() - outstanding.peekFirst().sentNanos
                            > REPLY_TIMEOUT_NANOS) {
                        throw new SocketTimeoutException("no reply within 10 s");
                    }
                } catch (IOException unknown) {
                    // outcome unknown for everything unanswered: a new connection re-sends it all, in order
                    key.cancel();
                    closeQuietly(ch);
                    ch = null;
                    reconnects.incrementAndGet();
                    TimeUnit.MILLISECONDS.sleep(50);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            error("selector: " + e);
        } finally {
            closeQuietly(ch);
        }
    }

    /** The next command: a key, 1-3 values from {@code seq} on, encoded. */
    private PipelinedCommand command(long seq, long now) {
        int k = random.nextInt(keys.size());
        int count = 1 + random.nextInt(3);
        byte[] index = keyIndex;
        if (seq + count > index.length) {
            index = Arrays.copyOf(index, (int) Math.max(index.length * 2L, seq + count));
        }
        List<String> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            index[(int) (seq + i)] = (byte) k;
            values.add(prefix() + ListCheck.value(id, seq + i));
        }
        keyIndex = index;
        return new PipelinedCommand(seq, count,
                PipelinedCommand.encode(isLpush(k) ? "LPUSH" : "RPUSH", keys.get(k), values), now);
    }

    /** Consumes every complete reply in {@code in}, each answering the oldest unanswered command. */
    private void readReplies(ByteBuffer in, ArrayDeque<PipelinedCommand> outstanding) throws IOException {
        for (ReplyLine reply = ReplyLine.next(in); reply != null; reply = ReplyLine.next(in)) {
            byte type = reply.type();
            String text = reply.text();
            PipelinedCommand c = outstanding.pollFirst();
            if (c == null) {
                throw new IOException("a reply with no command awaiting it: " + (char) type + text);
            }
            long now = System.nanoTime();
            switch (type) {
                case ':' -> {
                    long n;
                    try {
                        n = Long.parseLong(text);
                    } catch (NumberFormatException e) {
                        n = -1;
                    }
                    if (n == c.count) {
                        for (int i = 0; i < c.count; i++) {
                            acked.add(c.firstSeq + i);
                            latency.record(phase(), now - c.firstSentNanos);
                        }
                    } else {
                        refuse(c, "the relay answered :" + text + " for " + c.count + " values");
                    }
                }
                case '-' -> refused(c, "-" + text);
                case '+' -> refuse(c, "unexpected reply +" + text);
                default -> {
                    refuse(c, "unexpected reply " + (char) type + text);
                    throw new IOException("cannot read on after a reply of type " + (char) type);
                }
            }
        }
    }

    /** An error reply: the relay refused the command, all its values. */
    private void refused(PipelinedCommand c, String reply) {
        for (int i = 0; i < c.count; i++) {
            refused(c.firstSeq + i, prefix() + ListCheck.value(id, c.firstSeq + i) + ": " + reply);
        }
    }

    /** A producer-visible error for each of the command's values whose outcome is not a clear refusal. */
    private void refuse(PipelinedCommand c, String why) {
        for (int i = 0; i < c.count; i++) {
            error(prefix() + ListCheck.value(id, c.firstSeq + i) + ": " + why);
        }
    }

    /** Ends the wait for every unanswered command, visibly: each value becomes a producer-visible error. */
    private void giveUp(ArrayDeque<PipelinedCommand> outstanding, ArrayDeque<PipelinedCommand> toWrite, String why) {
        for (PipelinedCommand c : outstanding) {
            refuse(c, why);
        }
        outstanding.clear();
        toWrite.clear();
    }

    private static void closeQuietly(SocketChannel ch) {
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // already broken
            }
        }
    }
}
