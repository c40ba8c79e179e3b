package dev.spillway.chaos.writepath;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.chaos.check.ListCheck;
import dev.spillway.relay.Message;
import dev.spillway.relay.Relay;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.spill.SpillLogConfig;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A relay process for {@link RelayCrashTest}: a {@link Relay} on the given spill directory and
 * Sentinels, fed by producers at a fixed rate; prints {@code READY} once connected and
 * {@code ACK <producer> <seq>} after each ack, until it is killed.
 * Arguments: spill directory, comma-separated Sentinel addresses, producers.
 */
public final class RelayCrashChild {

    private RelayCrashChild() {}

    public static void main(String[] args) throws Exception {
        Path spillDir = Path.of(args[0]);
        List<String> sentinels = Arrays.asList(args[1].split(","));
        int producers = Integer.parseInt(args[2]);
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.US_ASCII);
        SinkConfig sink = SinkConfig.builder().sentinels(sentinels).timeout(Duration.ofMillis(500))
                .waitTimeout(Duration.ofMillis(300)).connectTimeout(Duration.ofMillis(500)).build();
        Relay relay = Relay.start(sink, SpillLogConfig.builder(spillDir).build(), new MetricRegistry());
        while (!relay.redisConnected()) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        synchronized (out) {
            out.println("READY");
            out.flush();
        }
        byte[] key = "data_queue".getBytes(StandardCharsets.US_ASCII);
        for (int p = 0; p < producers; p++) {
            int producer = p;
            new Thread(() -> {
                Semaphore window = new Semaphore(16);
                long start = System.nanoTime();
                for (long seq = 0; ; seq++) {
                    try {
                        long wait = start + seq * 1_000_000L - System.nanoTime(); // 1,000 messages/s
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                        window.acquire();
                    } catch (InterruptedException e) {
                        return;
                    }
                    long s = seq;
                    relay.router().submit(Message.ListOp.RPUSH, key,
                            List.of(ListCheck.value(producer, s).getBytes(StandardCharsets.US_ASCII)))
                            .whenComplete((ok, err) -> {
                                if (err == null) {
                                    synchronized (out) {
                                        out.println("ACK " + producer + " " + s);
                                        out.flush();
                                    }
                                }
                                window.release();
                            });
                }
            }).start();
        }
        TimeUnit.MINUTES.sleep(5); // the test kills this process long before
        System.exit(3);
    }
}
