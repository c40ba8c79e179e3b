package dev.spillway.chaos.workload;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A producer on one TCP connection of its own (line protocol, HTTP/1.1): opened when the first
 * value is sent and after a reconnect, each time a new order epoch ({@link #openedConnection}).
 */
abstract class SocketProducer extends Producer {

    protected final String host;
    protected final int port;
    private Socket socket;
    protected OutputStream out;
    protected InputStream in;

    SocketProducer(int id, String host, int port, int rate, long max, LatencyRecorder latency) {
        super(id, rate, max, latency);
        this.host = host;
        this.port = port;
    }

    /** Connects unless connected (2 s to connect, 5 s for a reply). */
    protected final void connect() throws IOException {
        if (socket != null) {
            return;
        }
        Socket s = new Socket();
        s.connect(new InetSocketAddress(host, port), 2_000);
        s.setSoTimeout(5_000);
        s.setTcpNoDelay(true);
        socket = s;
        out = s.getOutputStream();
        in = new BufferedInputStream(s.getInputStream());
        openedConnection();
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
}
