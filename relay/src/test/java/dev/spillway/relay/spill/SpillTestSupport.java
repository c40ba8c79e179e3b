package dev.spillway.relay.spill;

import dev.spillway.relay.Message;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

final class SpillTestSupport {

    private SpillTestSupport() {}

    static Message message(long instance, long sequence, String key, byte[] value) {
        return new Message(instance, sequence, Message.ListOp.RPUSH, key.getBytes(StandardCharsets.UTF_8), value);
    }

    static Message message(long sequence) {
        return message(1, sequence, "list", String.format("value-%08d", sequence).getBytes(StandardCharsets.UTF_8));
    }

    static Message randomMessage(Random r, long sequence) {
        byte[] value = new byte[r.nextInt(200)];
        r.nextBytes(value);
        return new Message(7, sequence, r.nextBoolean() ? Message.ListOp.RPUSH : Message.ListOp.LPUSH,
                ("k" + r.nextInt(5)).getBytes(StandardCharsets.UTF_8), value);
    }

    static SpillLogConfig.Builder config(Path dir) {
        return SpillLogConfig.builder(dir).segmentBytes(64 * 1024).maxRecordBytes(32 * 1024);
    }

    /** Appends each message and waits for every acknowledgement. */
    static List<Long> appendAll(SpillLog log, List<Message> messages) throws Exception {
        List<CompletableFuture<Long>> futures = new ArrayList<>();
        for (Message m : messages) {
            futures.add(log.append(m));
        }
        List<Long> indexes = new ArrayList<>();
        for (CompletableFuture<Long> f : futures) {
            indexes.add(f.get(10, TimeUnit.SECONDS));
        }
        return indexes;
    }

    /** Everything the cursor can read from its position on, without committing. */
    static List<Message> readAll(SpillLog log) throws IOException {
        List<Message> out = new ArrayList<>();
        while (true) {
            List<SpilledMessage> batch = log.cursor().read(500, 1 << 20);
            if (batch.isEmpty()) {
                return out;
            }
            batch.forEach(s -> out.add(s.message()));
        }
    }
}
