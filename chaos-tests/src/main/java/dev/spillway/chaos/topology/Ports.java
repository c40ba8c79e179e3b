package dev.spillway.chaos.topology;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Port choice for every node of a topology: a fixed port as given, {@code 0} as a free one.
 *
 * <p>Thread-safe.
 */
public final class Ports {

    /** Ports handed out by this JVM: never twice, even before the node that got one binds it. */
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private Ports() {}

    /** The five ports of one relay. */
    record Relay(int resp, int line, int http, int admin, int agent) {}

    /**
     * Relay {@code i}'s (1-based) ports: RESP {@code base+i}, line {@code base+100+i}, HTTP
     * {@code base+200+i}, admin {@code base+300+i}, agent {@code base+400+i}; free ones when
     * {@code base} is 0.
     */
    static Relay relay(int base, int i) throws IOException {
        return new Relay(relayPort(base, i), relayPort(base, 100 + i), relayPort(base, 200 + i),
                relayPort(base, 300 + i), relayPort(base, 400 + i));
    }

    private static int relayPort(int base, int offset) throws IOException {
        return base == 0 ? portOrFree(0) : base + offset;
    }

    /**
     * {@code port}, or a free one below the kernel's ephemeral range (32768+ by default): a port
     * the kernel hands out ({@code new ServerSocket(0)}) can be taken by any outgoing connection
     * — a relay reconnecting to a Sentinel — between this choice and the node's bind.
     */
    public static int portOrFree(int port) throws IOException {
        if (port != 0) {
            return port;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 1000; attempt++) {
            int candidate = 20000 + random.nextInt(12000);
            if (!HANDED_OUT.add(candidate)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("127.0.0.1", candidate));
                return candidate;
            } catch (IOException inUse) {
                // taken: try another
            }
        }
        throw new IOException("no free port found in 20000-31999 after 1000 tries");
    }
}
