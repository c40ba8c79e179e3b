package dev.spillway.relay.config;

/**
 * Where one listener binds; {@code enabled=false} leaves it off; {@code tls} has it speak TLS
 * only, with the certificate of {@code security.tls}.
 */
public record ListenerConfig(boolean enabled, String host, int port, boolean tls) {

    public ListenerConfig {
        if (host == null || host.isBlank()) {
            throw new ConfigException("host: '" + host + "' (expected: an address to bind, e.g. 127.0.0.1)");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException("port: " + port + " (expected: 0..65535; 0 = any free port)");
        }
    }

    /** A plaintext listener. */
    public ListenerConfig(boolean enabled, String host, int port) {
        this(enabled, host, port, false);
    }

    public String address() {
        return host + ":" + port;
    }

    /**
     * Whether the listener is reachable from this host only: {@code localhost}, {@code 127.x.x.x}
     * or {@code ::1}. Decided from the text alone (no name lookup).
     */
    public boolean loopbackOnly() {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return h.equalsIgnoreCase("localhost") || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")
                || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
    }
}
