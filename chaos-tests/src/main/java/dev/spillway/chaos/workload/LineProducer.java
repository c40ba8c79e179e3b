package dev.spillway.chaos.workload;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** A producer speaking the line protocol: one line per message, {@code OK} or {@code ERR <reason>} back. */
public final class LineProducer extends SocketProducer {

    public LineProducer(int id, String host, int port, int rate, long max, LatencyRecorder latency) {
        super(id, host, port, rate, max, latency);
    }

    @Override
    protected boolean send(String value) throws IOException, RefusedException {
        connect();
        out.write((value + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        String reply = readLine();
        if (reply == null) {
            throw new IOException("connection closed before the reply");
        }
        if (reply.startsWith("ERR ")) {
            throw new RefusedException(reply);
        }
        return reply.equals("OK");
    }

    private String readLine() throws IOException {
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                return null;
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.UTF_8);
    }

    @Override
    public String protocol() {
        return "line";
    }
}
