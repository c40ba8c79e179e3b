package dev.spillway.chaos.workload;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * A producer speaking HTTP/1.1 on one keep-alive connection of its own: {@code POST
 * /v1/lists/<key>} with the value as body, 200 = acknowledged. The connection is a socket this
 * class holds (not a client library's pool), so that every new connection — after an error, or
 * because the server or the load balancer closed the old one — is known, and the order check
 * applies per connection, as the relay promises it.
 */
public final class HttpProducer extends SocketProducer {

    private final String path;

    public HttpProducer(int id, String host, int port, String key, int rate, long max, LatencyRecorder latency) {
        super(id, host, port, rate, max, latency);
        this.path = "/v1/lists/" + key;
    }

    @Override
    protected boolean send(String value) throws IOException, RefusedException {
        connect();
        byte[] body = value.getBytes(StandardCharsets.UTF_8);
        out.write(("POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port
                + "\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        String status = line();
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP reply: " + status);
        }
        int code = Integer.parseInt(parts[1]);
        int length = -1;
        boolean close = false;
        for (String h = line(); !h.isEmpty(); h = line()) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Integer.parseInt(h.substring(15).trim());
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                close = true;
            }
        }
        if (length < 0) {
            throw new IOException("reply without Content-Length: " + status);
        }
        String reply = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        if (close) {
            close(); // the next send opens a new connection (a new epoch)
        }
        if (code == 200) {
            return true;
        }
        if (code == 502 || code == 504) {
            throw new IOException("load balancer: " + code); // no relay answered: unknown
        }
        throw new RefusedException(code + " " + reply);
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0) {
                throw new IOException("connection closed before the reply");
            }
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public String protocol() {
        return "http";
    }
}
