package dev.spillway.chaos.topology;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A client of HAProxy's runtime API on its Unix socket ({@code stats socket ... level admin}):
 * the servers' states as HAProxy's health and agent checks see them.
 *
 * <p>Thread-safe: a connection per command.
 */
public final class HaproxyRuntime {

    /** The backends that balance over the relays, one per protocol. */
    public static final List<String> RELAY_BACKENDS = List.of("relays_resp", "relays_line", "relays_http");

    private final String socket;

    public HaproxyRuntime(String socket) {
        this.socket = socket;
    }

    public String socket() {
        return socket;
    }

    /** Sends a command to HAProxy's runtime API and returns its answer. */
    public String command(String command) throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            StringBuilder out = new StringBuilder();
            while (ch.read(buf) > 0) {
                buf.flip();
                out.append(StandardCharsets.UTF_8.decode(buf));
                buf.clear();
            }
            return out.toString().trim();
        }
    }

    /** HAProxy's state of each server of {@code backend}, e.g. {@code redis-1 -> DOWN}. */
    public Map<String, String> servers(String backend) throws IOException {
        Map<String, String> view = new LinkedHashMap<>();
        for (String[] f : serverStats()) {
            if (f[0].equals(backend)) {
                view.put(f[1], f[17]);
            }
        }
        return view;
    }

    /** HAProxy's state for each relay in each backend, e.g. {@code relays_resp/relay-1 -> UP}. */
    public Map<String, String> relayView() throws IOException {
        Map<String, String> view = new LinkedHashMap<>();
        for (String[] f : serverStats()) {
            if (f[0].startsWith("relays_")) {
                view.put(f[0] + "/" + f[1], f[17]);
            }
        }
        return view;
    }

    /** Waits until HAProxy sees each of {@code relays} UP in every relay backend (the socket may not exist yet). */
    public void awaitUp(List<String> relays, java.time.Duration timeout) throws IOException {
        long start = System.nanoTime();
        while (true) {
            Map<String, String> view;
            try {
                view = relayView();
            } catch (IOException notYet) {
                if (Timing.elapsedSince(start).compareTo(timeout) > 0) {
                    throw new IOException("HAProxy's runtime socket " + socket + " does not answer after " + timeout
                            + ": " + notYet.getMessage(), notYet);
                }
                Timing.sleepMillis(100);
                continue;
            }
            Map<String, String> seen = view;
            boolean allUp = !seen.isEmpty() && relays.stream().allMatch(r -> seen.entrySet().stream()
                    .filter(e -> e.getKey().endsWith("/" + r)).allMatch(e -> e.getValue().startsWith("UP")));
            if (allUp) {
                return;
            }
            if (Timing.elapsedSince(start).compareTo(timeout) > 0) {
                throw new IOException("HAProxy does not see all relays UP after " + timeout + ": " + seen);
            }
            Timing.sleepMillis(100);
        }
    }

    /** The CSV rows of {@code show stat} that describe servers (not a backend's or frontend's totals). */
    private List<String[]> serverStats() throws IOException {
        return command("show stat").lines().map(line -> line.split(",", -1))
                .filter(f -> f.length > 17 && !f[1].equals("BACKEND") && !f[1].equals("FRONTEND")).toList();
    }
}
