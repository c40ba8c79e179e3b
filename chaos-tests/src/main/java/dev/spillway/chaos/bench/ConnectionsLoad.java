package dev.spillway.chaos.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Many small producers, each on its own connection: every connection sends one message and waits
 * for its reply before the next, a fixed number of times, all connections at once. One selector
 * thread drives them all, so the load generator's CPU stays small and measurable next to the
 * processes it loads.
 *
 * <p>Two wire formats carry the same 100-byte messages: the relay's line protocol (a line, answered
 * {@code OK\n}) and, for the same load straight to Redis, {@code RPUSH key message} in RESP
 * (answered {@code :<length>}). Both replies are a single line, so a reply is complete at its
 * {@code \n}; any other first byte is an error.
 *
 * <p>Bounded in count (connections × messages) and in time: what is unanswered at the deadline is
 * reported as such. Not thread-safe; one run at a time.
 */
public final class ConnectionsLoad {

    /** How a message is framed and how its reply is recognised. */
    public enum Protocol {
        /** The seed's line protocol: {@code message\n}, answered {@code OK\n}. */
        LINE,
        /** {@code RPUSH key message} as a RESP array, answered with an integer. */
        RESP_RPUSH
    }

    /**
     * What one run measured: messages acknowledged and refused, the connections that could not
     * complete, the interval from the first message to the last reply, and the round trips' p50,
     * p99 and p999 in ms.
     */
    public record Result(long acked, long errors, int unfinished, double seconds, double p50, double p99,
            double p999, String firstError) {

        public double perSecond() {
            return seconds > 0 ? acked / seconds : 0;
        }
    }

    /** Called once every connection is open, just before the first message is sent. */
    public interface Start {
        void started();
    }

    static final int VALUE_BYTES = 100;

    private final int port;
    private final Protocol protocol;
    private final String key;
    private final int connections;
    private final int perConnection;
    private final Duration limit;

    /**
     * @param port on 127.0.0.1
     * @param key the list of the RPUSH commands; unused by {@link Protocol#LINE} (the relay's line
     *     listener has its own list)
     * @param limit the longest the messages may take once every connection is open
     */
    public ConnectionsLoad(int port, Protocol protocol, String key, int connections, int perConnection,
            Duration limit) {
        if (connections < 1 || perConnection < 1) {
            throw new IllegalArgumentException("connections and messages per connection must be positive");
        }
        this.port = port;
        this.protocol = protocol;
        this.key = key;
        this.connections = connections;
        this.perConnection = perConnection;
        this.limit = limit;
    }

    /** The bytes of one message as sent on the wire. */
    byte[] request() {
        byte[] value = new byte[VALUE_BYTES];
        Arrays.fill(value, (byte) 'x');
        String v = new String(value, StandardCharsets.US_ASCII);
        String wire = protocol == Protocol.LINE ? v + "\n"
                : "*3\r\n$5\r\nRPUSH\r\n$" + key.getBytes(StandardCharsets.UTF_8).length + "\r\n" + key + "\r\n$"
                        + VALUE_BYTES + "\r\n" + v + "\r\n";
        return wire.getBytes(StandardCharsets.UTF_8);
    }

    /** One connection's state: its pending request, the reply line being read, and its clock. */
    private static final class Conn {
        final SocketChannel channel;
        final ByteBuffer out;
        final StringBuilder reply = new StringBuilder();
        int sent;
        long sentAt;
        boolean done;

        Conn(SocketChannel channel, byte[] request) {
            this.channel = channel;
            this.out = ByteBuffer.wrap(request);
        }
    }

    /**
     * Opens every connection, then runs the messages; {@code start} is called between the two, so
     * a caller can leave connection setup out of what it measures.
     */
    public Result run(Start start) throws IOException {
        byte[] request = request();
        List<Conn> conns = new ArrayList<>(connections);
        try (Selector selector = Selector.open()) {
            try {
                for (int i = 0; i < connections; i++) {
                    SocketChannel ch = SocketChannel.open();
                    conns.add(new Conn(ch, request));
                    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    ch.connect(new InetSocketAddress("127.0.0.1", port));
                    ch.configureBlocking(false);
                }
                start.started();
                return exchange(selector, conns);
            } finally {
                for (Conn c : conns) {
                    c.channel.close();
                }
            }
        }
    }

    private Result exchange(Selector selector, List<Conn> conns) throws IOException {
        Histogram rtt = new Histogram(TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MINUTES.toNanos(10), 3);
        ByteBuffer in = ByteBuffer.allocate(4096);
        long t0 = System.nanoTime();
        long deadline = t0 + limit.toNanos();
        for (Conn c : conns) {
            send(c, t0);
            c.channel.register(selector, c.out.hasRemaining() ? SelectionKey.OP_READ | SelectionKey.OP_WRITE
                    : SelectionKey.OP_READ, c);
        }
        long acked = 0;
        long errors = 0;
        String firstError = "";
        int open = conns.size();
        long last = t0;
        while (open > 0) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            for (SelectionKey k : selector.selectedKeys()) {
                Conn c = (Conn) k.attachment();
                int n;
                try {
                    if (k.isValid() && k.isWritable()) {
                        c.channel.write(c.out);
                        if (!c.out.hasRemaining()) {
                            k.interestOps(SelectionKey.OP_READ);
                        }
                    }
                    if (!k.isValid() || !k.isReadable()) {
                        continue;
                    }
                    in.clear();
                    n = c.channel.read(in);
                } catch (IOException e) {
                    n = -1;
                    if (firstError.isEmpty()) {
                        firstError = "connection failed after " + c.sent + " messages: " + e.getMessage();
                    }
                }
                if (n < 0) {
                    k.cancel();
                    open--;
                    if (firstError.isEmpty()) {
                        firstError = "connection closed by the server after " + c.sent + " messages";
                    }
                    continue;
                }
                in.flip();
                while (in.hasRemaining() && !c.done) {
                    char b = (char) in.get();
                    if (b != '\n') {
                        c.reply.append(b);
                        continue;
                    }
                    long now = System.nanoTime();
                    rtt.recordValue(Math.min(now - c.sentAt, rtt.getHighestTrackableValue()));
                    last = now;
                    if (accepted(c.reply)) {
                        acked++;
                    } else {
                        errors++;
                        if (firstError.isEmpty()) {
                            firstError = c.reply.toString().trim();
                        }
                    }
                    c.reply.setLength(0);
                    if (c.sent < perConnection) {
                        c.out.rewind();
                        try {
                            send(c, now);
                        } catch (IOException e) {
                            k.cancel();
                            open--;
                            if (firstError.isEmpty()) {
                                firstError = "connection failed after " + (c.sent - 1) + " messages: "
                                        + e.getMessage();
                            }
                            break;
                        }
                        if (c.out.hasRemaining()) {
                            k.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                        }
                    } else {
                        c.done = true;
                        k.cancel();
                        open--;
                    }
                }
            }
            selector.selectedKeys().clear();
        }
        int unfinished = (int) conns.stream().filter(c -> !c.done).count();
        double ms = 1e6;
        return new Result(acked, errors, unfinished, (last - t0) / 1e9, rtt.getValueAtPercentile(50) / ms,
                rtt.getValueAtPercentile(99) / ms, rtt.getValueAtPercentile(99.9) / ms, firstError);
    }

    private static void send(Conn c, long now) throws IOException {
        c.sent++;
        c.sentAt = now;
        c.channel.write(c.out);
    }

    private boolean accepted(CharSequence reply) {
        return protocol == Protocol.LINE ? "OK".contentEquals(trimmed(reply))
                : reply.length() > 1 && reply.charAt(0) == ':';
    }

    private static CharSequence trimmed(CharSequence s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == '\r') {
            end--;
        }
        return s.subSequence(0, end);
    }
}
