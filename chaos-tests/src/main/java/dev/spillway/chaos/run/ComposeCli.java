package dev.spillway.chaos.run;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The {@code docker-compose} and {@code docker} commands of one compose project, run with the
 * project's environment (its ports and images), each bounded in time; a command that fails
 * throws with its output.
 *
 * <p>Thread-safe.
 */
final class ComposeCli {

    private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(3);

    private final Path composeFile;
    private final String project;
    private final Map<String, String> env;
    private final Map<String, String> containers = new ConcurrentHashMap<>();

    ComposeCli(Path composeFile, String project, Map<String, String> env) {
        this.composeFile = composeFile;
        this.project = project;
        this.env = env;
    }

    /**
     * The container id of {@code service} (one container per service here). Remembered: a
     * container keeps its id across {@code docker kill} and {@code start}, and docker-compose
     * takes most of a second to start.
     */
    String containerId(String service) throws IOException {
        String known = containers.get(service);
        if (known != null) {
            return known;
        }
        String id = compose("ps", "-q", service).strip();
        if (id.isEmpty()) {
            throw new IOException("compose project " + project + " has no container for " + service);
        }
        containers.put(service, id);
        return id;
    }

    String compose(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("docker-compose", "-p", project, "-f", composeFile.toString()));
        command.addAll(List.of(args));
        return run(command);
    }

    String docker(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        return run(command);
    }

    private String run(List<String> command) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out;
        try {
            out = p.getInputStream().readAllBytes();
            if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + COMMAND_TIMEOUT);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + text.strip());
        }
        return text;
    }

}
