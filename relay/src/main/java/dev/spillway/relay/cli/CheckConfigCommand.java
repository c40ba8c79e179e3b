package dev.spillway.relay.cli;

import dev.spillway.relay.config.ConfigException;
import dev.spillway.relay.config.ConfigLoader;
import dev.spillway.relay.config.RelayConfig;
import dev.spillway.relay.net.ServerTls;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code check-config --config F}: validates a configuration and prints what the relay would run with. */
@Command(name = "check-config", mixinStandardHelpOptions = true,
        description = "Validate a configuration (exit 0 when valid, 2 when not).")
public final class CheckConfigCommand implements Callable<Integer> {

    @Option(names = {"-c", "--config"}, description = "YAML configuration (SPILLWAY_* variables override it).")
    Path config;

    @Override
    public Integer call() {
        try {
            RelayConfig c = ConfigLoader.load(config, System.getenv());
            if (c.security().tls() != null) {
                ServerTls.context(c.security().tls()); // the files must be readable, and the key fit the certificate
            }
            System.out.printf("configuration OK: relay '%s'; resp %s, line %s (list %s), http %s, admin %s; "
                            + "Sentinel group '%s' via %s (%s, Redis user %s, Sentinel user %s), minReplicas %s; "
                            + "spill %s (max %d bytes)%n",
                    c.name(), on(c.resp()), on(c.line()), c.lineKey(), on(c.http()), on(c.admin()),
                    c.sink().masterName(), c.sink().sentinels(),
                    c.sink().tls() == null ? "plain TCP" : c.sink().tls(),
                    user(c.sink().username(), c.sink().password()),
                    user(c.sink().sentinelUsername(), c.sink().sentinelPassword()), c.sink().minReplicasText(),
                    c.spill().directory(), c.spill().maxBytes());
            return 0;
        } catch (ConfigException e) {
            System.err.println("invalid configuration: " + e.getMessage());
            return 2;
        }
    }

    /** Who AUTHs, never with what. */
    private static String user(String name, String password) {
        return password == null ? "none (no AUTH)" : (name == null ? "default" : name) + " (password set)";
    }

    private static String on(dev.spillway.relay.config.ListenerConfig l) {
        return l.enabled() ? l.address() : "off";
    }
}
