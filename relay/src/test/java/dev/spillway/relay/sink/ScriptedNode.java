package dev.spillway.relay.sink;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A node on 127.0.0.1 that reads commands (arrays of bulk strings) and writes what its script
 * answers: a RESP reply, null for none, {@link #FREEZE} to answer nothing any more (a frozen
 * node), {@link #HANG_UP} to close the connection. A reply with {@link #PAUSE} in it is written in
 * pieces, 100 ms apart, as a network may deliver it.
 */
final class ScriptedNode implements AutoCloseable {
    static final String HANG_UP = "hang up";
    static final String FREEZE = "freeze";
    static final String PAUSE = "<pause>";

    final List<List<String>> received = new CopyOnWriteArrayList<>();
    volatile boolean piecemeal;
    private final ServerSocket server;
    private final Function<List<String>, String> script;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    ScriptedNode(Function<List<String>, String> script) throws IOException {
        this.script = script;
        this.server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "scripted-node");
        t.setDaemon(true);
        t.start();
    }

    String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    private void accept() {
        try {
            while (true) {
                Socket s = server.accept();
                sockets.add(s);
                Thread t = new Thread(() -> serve(s), "scripted-node-connection");
                t.setDaemon(true);
                t.start();
            }
        } catch (IOException closed) {
            // the test is over
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = new BufferedInputStream(s.getInputStream()); OutputStream out = s.getOutputStream()) {
            boolean frozen = false;
            while (true) {
                List<String> words = read(in);
                if (words == null) {
                    return;
                }
                received.add(words);
                String reply = frozen ? null : script.apply(words);
                if (HANG_UP.equals(reply)) {
                    return;
                }
                if (FREEZE.equals(reply)) {
                    frozen = true;
                    continue;
                }
                if (reply != null && reply.contains(PAUSE)) {
                    for (String piece : reply.split(PAUSE, -1)) {
                        out.write(piece.getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        sleep(100);
                    }
                } else if (reply != null) {
                    byte[] bytes = reply.getBytes(StandardCharsets.UTF_8);
                    if (piecemeal) {
                        for (byte b : bytes) {
                            out.write(b);
                            out.flush();
                        }
                    } else {
                        out.write(bytes);
                        out.flush();
                    }
                }
            }
        } catch (IOException gone) {
            // the client closed
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How many of the commands received so far are {@code command}. */
    long count(String command) {
        return received.stream().filter(w -> w.get(0).equalsIgnoreCase(command)).count();
    }

    private static List<String> read(InputStream in) throws IOException {
        String header = line(in);
        if (header == null) {
            return null;
        }
        int n = Integer.parseInt(header.substring(1));
        List<String> words = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int len = Integer.parseInt(line(in).substring(1));
            byte[] b = in.readNBytes(len + 2);
            words.add(new String(b, 0, len, StandardCharsets.UTF_8));
        }
        return words;
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                return b.toString(StandardCharsets.US_ASCII).stripTrailing();
            }
            b.write(c);
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
