package dev.spillway.relay.ingress;

import dev.spillway.relay.RelayState;
import dev.spillway.relay.RelayStatus;
import dev.spillway.relay.config.Limits;
import dev.spillway.relay.security.IngressUsers;
import dev.spillway.relay.security.Secret;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Helpers for driving listener pipelines in an {@link EmbeddedChannel}. */
public final class ChannelSupport {

    private ChannelSupport() {}

    public static final RelayStatus STATUS = new RelayStatus("test", "abc", RelayState.OK, "DIRECT", "127.0.0.1:6379",
            "CLOSED", 0, 0, 1 << 30, 0, 1, 0, "open", 0, false, false);

    /** Nobody, or the {@code default} user with this RESP password. */
    public static IngressUsers password(String password) {
        return password == null ? IngressUsers.open() : IngressUsers.of(List.of(), Secret.parse(password), null);
    }

    /** Nobody, or the {@code default} user with this HTTP bearer token. */
    public static IngressUsers token(String token) {
        return token == null ? IngressUsers.open() : IngressUsers.of(List.of(), null, Secret.parse(token));
    }

    public static Limits limits(int maxValueBytes, int maxInFlightPerConnection) {
        return new Limits(maxValueBytes, Math.max(maxValueBytes, 4096) * 4, 1000, 1024, maxInFlightPerConnection,
                1_000_000, 100, Duration.ofMinutes(5));
    }

    public static ConnectionLimiter limiter(Object refusal) {
        return new ConnectionLimiter(new AtomicInteger(), new DefaultChannelGroup(GlobalEventExecutor.INSTANCE), 100,
                new com.codahale.metrics.Meter(), why -> refusal);
    }

    public static IngressMetrics metrics() {
        return new IngressMetrics(new com.codahale.metrics.MetricRegistry(), "test");
    }

    public static InFlight inFlight(Limits limits) {
        return new InFlight(limits.maxInFlightPerConnection(), limits.maxInFlightTotal());
    }

    /** Writes {@code s} one byte at a time, as a fragmenting network would. */
    public static void writeByteByByte(EmbeddedChannel ch, String s) {
        for (byte b : s.getBytes(StandardCharsets.ISO_8859_1)) {
            ch.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
    }

    public static void write(EmbeddedChannel ch, String s) {
        ch.writeInbound(Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1));
    }

    /** Everything the pipeline wrote so far, as text (running queued tasks first). */
    public static String output(EmbeddedChannel ch) {
        ch.runPendingTasks();
        StringBuilder out = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            if (o instanceof ByteBuf b) {
                out.append(b.toString(StandardCharsets.ISO_8859_1));
                b.release();
            } else {
                out.append(o);
            }
        }
        return out.toString();
    }
}
