package dev.spillway.chaos.workload;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/** A producer speaking the line protocol: one line per message, {@code OK} or {@code ERR <reason>} back. */
public final class LineProducer extends Producer {

    private final String host;
    private final int port;
    private Socket socket;
    private OutputStream out;
    private BufferedReader in;

    public LineProducer(int id, String host, int port, int rate, long max, LatencyRecorder latency) {
        super(id, rate, max, latency);
        this.host = host;
        this.port = port;
    }

    @Override
    protected boolean send(String value) throws IOException, RefusedException {
        if (socket == null) {
            socket = new Socket();
            socket.connect(new InetSocketAddress(host, port), 2_000);
            socket.setSoTimeout(5_000);
            socket.setTcpNoDelay(true);
            out = socket.getOutputStream();
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            openedConnection();
        }
        out.write((value + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        String reply = in.readLine();
        if (reply == null) {
            throw new IOException("connection closed before the reply");
        }
        if (reply.startsWith("ERR ")) {
            throw new RefusedException(reply);
        }
        return reply.equals("OK");
    }

    @Override
    protected void reconnect() {
        close();
    }

    @Override
    protected void close() {
        if (socket != null) {
            try {
                socket.close();
            } catch (IOException ignored) {
                // already broken
            }
            socket = null;
        }
    }

    @Override
    public String protocol() {
        return "line";
    }
}
