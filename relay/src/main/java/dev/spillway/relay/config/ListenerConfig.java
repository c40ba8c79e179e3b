package dev.spillway.relay.config;

/** Where one listener binds; {@code enabled=false} leaves it off. */
public record ListenerConfig(boolean enabled, String host, int port) {

    public ListenerConfig {
        if (host == null || host.isBlank()) {
            throw new ConfigException("host: '" + host + "' (expected: an address to bind, e.g. 127.0.0.1)");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException("port: " + port + " (expected: 0..65535; 0 = any free port)");
        }
    }

    public String address() {
        return host + ":" + port;
    }
}
