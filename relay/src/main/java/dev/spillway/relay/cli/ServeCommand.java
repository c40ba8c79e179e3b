package dev.spillway.relay.cli;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.RelayServer;
import dev.spillway.relay.config.ConfigException;
import dev.spillway.relay.spill.SpillException;
import dev.spillway.relay.config.ConfigLoader;
import dev.spillway.relay.config.RelayConfig;
import dev.spillway.relay.sink.Preflight;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
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

    @Option(names = "--log-format", defaultValue = "${env:SPILLWAY_LOG_FORMAT:-text}",
            description = "text (default) or json: one JSON object per line, events' fields included "
                    + "(also SPILLWAY_LOG_FORMAT).")
    LogFormat logFormat;

    @Override
    public Integer call() throws Exception {
        logFormat.apply();
        RelayConfig cfg;
        try {
            cfg = ConfigLoader.load(config, System.getenv());
        } catch (ConfigException e) {
            System.err.println("spillway relay: invalid configuration: " + e.getMessage());
            return 2;
        }
        Optional<String> stranded = strandedSpill(cfg, Path.of("").toAbsolutePath());
        if (stranded.isPresent()) {
            System.err.println("spillway relay: cannot start: " + stranded.get());
            return 1;
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
        } catch (IOException e) {
            // A spill directory this user may not create or write, a port another process holds:
            // like a spill directory locked by another relay, a restart would only repeat it.
            System.err.println("spillway relay: cannot start: " + reason(e));
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

    /**
     * A spill log in {@code ./spill} — where relays kept it before {@code spill.dir} defaulted to
     * {@value RelayConfig#DEFAULT_SPILL_DIR} — while this relay would open the default: its
     * messages were acknowledged and only a relay started on that directory replays them.
     */
    static Optional<String> strandedSpill(RelayConfig cfg, Path workingDirectory) {
        Path old = workingDirectory.resolve("spill");
        Path dir = cfg.spill().directory().toAbsolutePath();
        if (!dir.equals(Path.of(RelayConfig.DEFAULT_SPILL_DIR)) || dir.equals(old) || !Files.isDirectory(old)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(old)) {
            long segments = files.filter(f -> f.getFileName().toString().endsWith(".seg")).count();
            return segments == 0 ? Optional.empty() : Optional.of(old + " holds a spill log (" + segments
                    + " segment file(s)) and spill.dir is the default, " + dir + ": its messages were acknowledged"
                    + " and wait to be replayed. Set spill.dir: " + old + " (or move its files there while no relay"
                    + " runs); once it has drained, the directory can go");
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException denied) {
            return denied.getFile() + ": permission denied (spill.dir must be writable by the relay's user)";
        }
        if (e instanceof FileAlreadyExistsException exists) {
            return exists.getFile() + ": exists and is not a directory (spill.dir must be a directory)";
        }
        if (e instanceof FileSystemException fs) {
            return fs.getFile() + ": " + (fs.getReason() != null ? fs.getReason() : fs.getClass().getSimpleName());
        }
        return e.toString();
    }
}
