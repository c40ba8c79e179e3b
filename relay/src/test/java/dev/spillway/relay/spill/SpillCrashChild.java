package dev.spillway.relay.spill;

import dev.spillway.relay.Message;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Child process for {@link SpillLogCrashTest}: appends from several threads until killed and
 * prints {@code <instance> <sequence>} for every acknowledged message, after the ack.
 * Arguments: spill directory, round number, appender threads.
 */
public final class SpillCrashChild {

    private SpillCrashChild() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int round = Integer.parseInt(args[1]);
        int threads = Integer.parseInt(args[2]);
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.US_ASCII);
        SpillLog log = SpillLog.open(SpillLogConfig.builder(dir).segmentBytes(32 * 1024).maxRecordBytes(4096)
                .build());
        synchronized (out) {
            out.println("READY");
            out.flush();
        }
        for (int t = 0; t < threads; t++) {
            long instance = round * 100L + t;
            Thread th = new Thread(() -> {
                byte[] value = new byte[64];
                for (long seq = 0; ; seq++) {
                    Message m = new Message(instance, seq, Message.ListOp.RPUSH,
                            "crash".getBytes(StandardCharsets.US_ASCII), value);
                    log.append(m).join();
                    synchronized (out) {
                        out.println(instance + " " + seq);
                        out.flush();
                    }
                }
            });
            th.start();
        }
        Thread.sleep(60_000); // the parent kills us long before this
        System.exit(3);
    }
}
