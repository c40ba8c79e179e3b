package dev.spillway.relay.cli;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.RelayServer;
import dev.spillway.relay.config.ConfigException;
import dev.spillway.relay.spill.SpillException;
import dev.spillway.relay.config.ConfigLoader;
import dev.spillway.relay.config.RelayConfig;
import dev.spillway.relay.sink.Preflight;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code serve --config F}: runs the relay until SIGTERM or SIGINT, then drains and exits 0. */
@Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the relay.")
public final class ServeCommand implements Callable<Integer> {

    private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);

    @Option(names = {"-c", "--config"}, description = "YAML configuration (SPILLWAY_* variables override it).")
    Path config;

    @Override
    public Integer call() throws Exception {
        RelayConfig cfg;
        try {
            cfg = ConfigLoader.load(config, System.getenv());
        } catch (ConfigException e) {
            System.err.println("spillway relay: invalid configuration: " + e.getMessage());
            return 2;
        }
        // before any listener opens: a refused certificate or password is a setting to fix, and a
        // relay that started would acknowledge messages it can never deliver
        Optional<String> refused = Preflight.problems(cfg.sink());
        if (refused.isPresent()) {
            System.err.println("spillway relay: cannot start: the Sentinel group refused the relay:\n"
                    + refused.get().indent(2).stripTrailing());
            return 1;
        }
        RelayServer server;
        try {
            server = RelayServer.start(cfg, new MetricRegistry());
        } catch (SpillException e) {
            System.err.println("spillway relay: cannot start: " + e.getMessage());
            return 1;
        }
        CountDownLatch stop = new CountDownLatch(1);
        Signal.handle(new Signal("TERM"), s -> stop.countDown());
        Signal.handle(new Signal("INT"), s -> stop.countDown());
        stop.await();
        LOG.info("Signal received; draining");
        server.drain();
        return 0;
    }
}
