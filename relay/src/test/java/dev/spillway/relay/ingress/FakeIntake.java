package dev.spillway.relay.ingress;

import dev.spillway.relay.Message;
import dev.spillway.relay.route.Intake;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * An {@link Intake} whose acks the test hands out: records every submission. Like the router, it
 * builds a {@link Message} of every value, so what {@code Message} refuses fails here too.
 * Single-threaded use.
 */
public final class FakeIntake implements Intake {

    public record Submission(Message.ListOp op, String key, List<String> values, CompletableFuture<Void> ack) {}

    public final List<Submission> submissions = new ArrayList<>();
    public boolean autoAck;
    private long sequence;

    @Override
    public CompletableFuture<Void> submit(Message.ListOp op, byte[] key, List<byte[]> values) {
        for (byte[] value : values) {
            new Message(1, sequence++, op, key, value);
        }
        CompletableFuture<Void> ack = new CompletableFuture<>();
        List<String> v = new ArrayList<>();
        values.forEach(b -> v.add(new String(b, StandardCharsets.ISO_8859_1)));
        submissions.add(new Submission(op, new String(key, StandardCharsets.UTF_8), v, ack));
        if (autoAck) {
            ack.complete(null);
        }
        return ack;
    }

    public void ackAll() {
        submissions.forEach(s -> s.ack().complete(null));
    }
}
