package dev.spillway.relay.ingress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.http.HttpIngestInitializer;
import dev.spillway.relay.ingress.line.LineInitializer;
import dev.spillway.relay.ingress.resp.RespInitializer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Feeds each listener's decoder path 100,000 generated inputs — protocol-shaped tokens mixed
 * with random bytes, cut into random fragments — and checks that nothing escapes the pipeline,
 * no accepted value exceeds the limit, and replies stay well-formed.
 */
class DecoderFuzzTest {

    private static final Limits LIMITS = ChannelSupport.limits(256, 1000);

    @Property(tries = 100_000)
    void respDecoderSurvivesAnything(@ForAll("resp") List<byte[]> fragments) {
        FakeIntake intake = new FakeIntake();
        intake.autoAck = true;
        EmbeddedChannel ch = feed(new RespInitializer(new ListenerContext(intake, LIMITS, ChannelSupport.inFlight(LIMITS), ChannelSupport.metrics(),
                ChannelSupport.limiter(new ErrorRedisMessage("ERR too many"))), ChannelSupport.password(null), () -> ChannelSupport.STATUS),
                fragments);
        checkValues(intake);
        String out = ChannelSupport.output(ch);
        assertThat(wellFormedReplies(out)).as("well-formed RESP replies: %s", out).isTrue();
        ch.finishAndReleaseAll();
    }

    /**
     * The other half of the RESP contract: well-formed RPUSH/LPUSH commands with any bytes as
     * values (empty ones included), cut at random points, reach the router exactly — op, key,
     * values, order — and each is answered with its count.
     */
    @Property(tries = 10_000)
    void respDecoderTakesEveryWellFormedCommandExactly(@ForAll("pushes") List<List<byte[]>> commands,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 64) int cut) {
        java.io.ByteArrayOutputStream wire = new java.io.ByteArrayOutputStream();
        for (List<byte[]> c : commands) {
            wire.writeBytes(("*" + c.size() + "\r\n").getBytes(StandardCharsets.US_ASCII));
            for (byte[] arg : c) {
                wire.writeBytes(("$" + arg.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
                wire.writeBytes(arg);
                wire.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
        }
        byte[] all = wire.toByteArray();
        List<byte[]> fragments = new java.util.ArrayList<>();
        for (int i = 0; i < all.length; i += cut) {
            fragments.add(java.util.Arrays.copyOfRange(all, i, Math.min(all.length, i + cut)));
        }
        FakeIntake intake = new FakeIntake();
        intake.autoAck = true;
        EmbeddedChannel ch = feed(new RespInitializer(new ListenerContext(intake, LIMITS, ChannelSupport.inFlight(LIMITS), ChannelSupport.metrics(),
                ChannelSupport.limiter(new ErrorRedisMessage("ERR too many"))), ChannelSupport.password(null), () -> ChannelSupport.STATUS),
                fragments);
        assertThat(intake.submissions).hasSameSizeAs(commands);
        StringBuilder replies = new StringBuilder();
        for (int i = 0; i < commands.size(); i++) {
            List<byte[]> c = commands.get(i);
            FakeIntake.Submission got = intake.submissions.get(i);
            assertThat(got.op().name()).isEqualTo(new String(c.get(0), StandardCharsets.US_ASCII));
            assertThat(got.key()).isEqualTo(new String(c.get(1), StandardCharsets.UTF_8));
            assertThat(got.values()).containsExactlyElementsOf(c.subList(2, c.size()).stream()
                    .map(v -> new String(v, StandardCharsets.ISO_8859_1)).toList());
            replies.append(':').append(c.size() - 2).append("\r\n");
        }
        assertThat(ChannelSupport.output(ch)).isEqualTo(replies.toString());
        ch.finishAndReleaseAll();
    }

    @Provide
    Arbitrary<List<List<byte[]>>> pushes() {
        Arbitrary<byte[]> op = Arbitraries.of("RPUSH", "LPUSH").map(o -> o.getBytes(StandardCharsets.US_ASCII));
        Arbitrary<byte[]> key = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8)
                .map(k -> k.getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> value = Arbitraries.bytes().array(byte[].class).ofMaxSize(LIMITS.maxValueBytes());
        return Combinators.combine(op, key, value.list().ofMinSize(1).ofMaxSize(4))
                .as((o, k, vs) -> {
                    List<byte[]> c = new java.util.ArrayList<>(List.of(o, k));
                    c.addAll(vs);
                    return c;
                }).list().ofMaxSize(6);
    }

    @Property(tries = 100_000)
    void lineDecoderSurvivesAnything(@ForAll("lines") List<byte[]> fragments) {
        FakeIntake intake = new FakeIntake();
        intake.autoAck = true;
        EmbeddedChannel ch = feed(new LineInitializer(new ListenerContext(intake, LIMITS, ChannelSupport.inFlight(LIMITS), ChannelSupport.metrics(),
                ChannelSupport.limiter(Unpooled.EMPTY_BUFFER)), "data_queue"), fragments);
        checkValues(intake);
        String out = ChannelSupport.output(ch);
        for (String reply : out.split("\n")) {
            assertThat(reply.isEmpty() || reply.equals("OK") || reply.startsWith("ERR ")).as(reply).isTrue();
        }
        ch.finishAndReleaseAll();
    }

    @Property(tries = 100_000)
    void httpDecoderSurvivesAnything(@ForAll("http") List<byte[]> fragments) {
        FakeIntake intake = new FakeIntake();
        intake.autoAck = true;
        EmbeddedChannel ch = feed(new HttpIngestInitializer(new ListenerContext(intake, LIMITS, ChannelSupport.inFlight(LIMITS), ChannelSupport.metrics(),
                ChannelSupport.limiter(null)), ChannelSupport.token(null)), fragments);
        checkValues(intake);
        String out = ChannelSupport.output(ch);
        assertThat(out.isEmpty() || out.startsWith("HTTP/1.1 ")).as(out).isTrue();
        ch.finishAndReleaseAll();
    }

    /** True when {@code out} is a sequence of complete RESP2 replies. */
    static boolean wellFormedReplies(String out) {
        int[] pos = {0};
        while (pos[0] < out.length()) {
            if (!reply(out, pos)) {
                return false;
            }
        }
        return true;
    }

    private static boolean reply(String s, int[] pos) {
        if (pos[0] >= s.length()) {
            return false;
        }
        char type = s.charAt(pos[0]);
        int eol = s.indexOf("\r\n", pos[0]);
        if (eol < 0) {
            return false;
        }
        String head = s.substring(pos[0] + 1, eol);
        pos[0] = eol + 2;
        switch (type) {
            case '+', '-' -> {
                return !head.contains("\r") && !head.contains("\n");
            }
            case ':' -> {
                return head.matches("-?\\d+");
            }
            case '$' -> {
                if (!head.matches("-?\\d+")) {
                    return false;
                }
                int n = Integer.parseInt(head);
                if (n == -1) {
                    return true;
                }
                if (n < 0 || pos[0] + n + 2 > s.length() || !s.startsWith("\r\n", pos[0] + n)) {
                    return false;
                }
                pos[0] += n + 2;
                return true;
            }
            case '*' -> {
                if (!head.matches("-?\\d+")) {
                    return false;
                }
                int n = Integer.parseInt(head);
                for (int i = 0; i < n; i++) {
                    if (!reply(s, pos)) {
                        return false;
                    }
                }
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    private static EmbeddedChannel feed(ChannelHandler initializer, List<byte[]> fragments) {
        EmbeddedChannel ch = new EmbeddedChannel(initializer);
        for (byte[] f : fragments) {
            if (!ch.isActive()) {
                break;
            }
            ch.writeInbound(Unpooled.wrappedBuffer(f)); // throws if anything escapes the pipeline
            ch.runPendingTasks();
        }
        Object in;
        while ((in = ch.readInbound()) != null) {
            if (in instanceof ByteBuf b) {
                b.release();
            }
            throw new AssertionError("message left unconsumed at the end of the pipeline: " + in);
        }
        return ch;
    }

    private static void checkValues(FakeIntake intake) {
        for (FakeIntake.Submission s : intake.submissions) {
            for (String v : s.values()) {
                assertThat(v.length()).isLessThanOrEqualTo(LIMITS.maxValueBytes());
            }
        }
    }

    @Provide
    Arbitrary<List<byte[]>> resp() {
        return fragmented(Arbitraries.oneOf(
                Arbitraries.of("*", "$", "+", "-", ":", "\r\n", "\r", "\n", "-1", "0", "1", "2", "3", "64", "300",
                        "99999999999", "2147483648", "RPUSH", "LPUSH", "PING", "AUTH", "HELLO", "QUIT", "q", "v",
                        "*3\r\n$5\r\nRPUSH\r\n$1\r\nq\r\n$1\r\nv\r\n", "$257\r\n", " ")
                        .map(s -> s.getBytes(StandardCharsets.ISO_8859_1)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(40)));
    }

    @Provide
    Arbitrary<List<byte[]>> lines() {
        return fragmented(Arbitraries.oneOf(
                Arbitraries.of("\n", "\r\n", "\r", "message", "x".repeat(300)).map(s -> s.getBytes(StandardCharsets.ISO_8859_1)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(80)));
    }

    @Provide
    Arbitrary<List<byte[]>> http() {
        return fragmented(Arbitraries.oneOf(
                Arbitraries.of("POST ", "GET ", "/v1/lists/q", "/v1/lists/", " HTTP/1.1\r\n", "\r\n",
                        "Content-Length: 5\r\n", "Content-Length: -1\r\n", "Content-Length: 99999999\r\n",
                        "Transfer-Encoding: chunked\r\n", "Content-Type: application/x-ndjson\r\n", "5\r\nhello\r\n",
                        "0\r\n\r\n", "hello", "\n", "Expect: 100-continue\r\n", "Host: x\r\n")
                        .map(s -> s.getBytes(StandardCharsets.ISO_8859_1)),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(40)));
    }

    /** Joins generated tokens and cuts the result at random points. */
    private static Arbitrary<List<byte[]>> fragmented(Arbitrary<byte[]> token) {
        return Combinators.combine(token.list().ofMaxSize(24), Arbitraries.integers().between(1, 64))
                .as((tokens, cut) -> {
                    int total = tokens.stream().mapToInt(t -> t.length).sum();
                    byte[] all = new byte[total];
                    int p = 0;
                    for (byte[] t : tokens) {
                        System.arraycopy(t, 0, all, p, t.length);
                        p += t.length;
                    }
                    List<byte[]> out = new java.util.ArrayList<>();
                    for (int i = 0; i < all.length; i += cut) {
                        out.add(java.util.Arrays.copyOfRange(all, i, Math.min(all.length, i + cut)));
                    }
                    return out;
                });
    }
}
