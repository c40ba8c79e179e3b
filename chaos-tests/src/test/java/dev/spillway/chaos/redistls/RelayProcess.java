package dev.spillway.chaos.redistls;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.spillway.chaos.topology.Checkout;
import dev.spillway.chaos.topology.Ports;
import dev.spillway.chaos.topology.SentinelGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar relay.jar serve} on free ports against a Sentinel group, with the given
 * {@code sink.redis} settings; watches its listeners while it runs.
 */
final class RelayProcess implements AutoCloseable {

    final Process process;
    final Path log;
    final List<Integer> ports; // resp, line, http, admin

    private RelayProcess(Process process, Path log, List<Integer> ports) {
        this.process = process;
        this.log = log;
        this.ports = ports;
    }

    static RelayProcess start(Path dir, SentinelGroup group, Map<String, Object> redisSettings) throws IOException {
        Files.createDirectories(dir);
        List<Integer> ports = List.of(Ports.portOrFree(0), Ports.portOrFree(0), Ports.portOrFree(0),
                Ports.portOrFree(0));
        Map<String, Object> redis = new LinkedHashMap<>(redisSettings);
        redis.put("sentinels", group.sentinelAddresses());
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("name", "tls-relay");
        cfg.put("listeners", Map.of("resp", Map.of("port", ports.get(0)), "line", Map.of("port", ports.get(1)),
                "http", Map.of("port", ports.get(2)), "admin", Map.of("port", ports.get(3)),
                "agent", Map.of("port", 0)));
        cfg.put("sink", Map.of("redis", redis));
        cfg.put("spill", Map.of("dir", dir.resolve("spill").toString()));
        Path yaml = dir.resolve("relay.yaml");
        new ObjectMapper(new YAMLFactory()).writeValue(yaml.toFile(), cfg);
        Path log = dir.resolve("relay.log");
        Process p = new ProcessBuilder("java", "-jar", Checkout.relayJar().toString(), "serve", "--config",
                yaml.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new RelayProcess(p, log, ports);
    }

    int respPort() {
        return ports.get(0);
    }

    /**
     * Waits (bounded) for the process to exit, trying its listeners every 50 ms meanwhile.
     *
     * @return true when any listener accepted a connection before the exit
     */
    boolean awaitExitWatchingListeners(Duration timeout) throws InterruptedException {
        boolean answered = false;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (process.isAlive() && System.nanoTime() < deadline) {
            for (int port : ports) {
                answered |= accepts(port);
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return answered;
    }

    /** Waits (bounded) until the RESP listener accepts connections; false if the process exited first. */
    boolean awaitListening(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (process.isAlive() && System.nanoTime() < deadline) {
            if (accepts(respPort())) {
                return true;
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
        return false;
    }

    String output() throws IOException {
        return Files.readString(log);
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 100);
            return true;
        } catch (IOException refused) {
            return false;
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
