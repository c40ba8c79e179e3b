package dev.spillway.chaos.topology;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.DockerException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.IsRunningStartupCheckStrategy;
import org.testcontainers.utility.DockerImageName;

/**
 * Runs one {@link Node} in a container (Testcontainers, host networking, so every port stays on
 * 127.0.0.1), with the same faults as a process: SIGKILL ({@code docker kill}), freeze
 * ({@code docker pause}), SIGTERM with a grace period ({@code docker stop}). The node's
 * directories are bind-mounted at the same paths, so configurations and data are the host's.
 *
 * <p>Thread-safe (methods are synchronized).
 */
public final class ContainerRunner {

    private final String image;
    private final List<Path> mounts;
    private GenericContainer<?> container;

    ContainerRunner(String image, List<Path> mounts) {
        this.image = image;
        this.mounts = List.copyOf(mounts);
    }

    /**
     * The images of Redis (Sentinel too) and HAProxy: built locally by
     * {@code chaos-tests/docker/build-images.sh}, or — for a user with a registry — whatever
     * {@code -Dspillway.image.redis|haproxy} names (the official redis and haproxy images have the
     * binaries on their PATH). The relay's is {@link RelayImage}: the project's own image, built
     * from this checkout's jar.
     */
    public static String image(String kind) {
        return System.getProperty("spillway.image." + kind, "spillway/" + kind + ":local");
    }

    /**
     * The same command as the process backend, with binaries found inside the image. The relay
     * image's entrypoint is {@code java -jar /opt/spillway/relay.jar} with the advised JVM
     * options, so a relay's command keeps only the arguments after its jar.
     */
    static List<String> inContainer(List<String> command) {
        List<String> c = new ArrayList<>(command);
        switch (Path.of(c.get(0)).getFileName().toString()) {
            case "redis-server" -> c.set(0, "redis-server");
            case "redis-sentinel" -> {
                c.set(0, "redis-server");
                c.add("--sentinel");
            }
            case "haproxy" -> c.set(0, "haproxy");
            case "java" -> {
                int jar = c.indexOf("-jar");
                if (jar < 0 || jar + 2 > c.size()) {
                    throw new IllegalArgumentException("not a java -jar command: " + command);
                }
                return List.copyOf(c.subList(jar + 2, c.size()));
            }
            default -> { }
        }
        return c;
    }

    synchronized void start(List<String> command, Path workDir) {
        remove();
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image))
                .withNetworkMode("host")
                .withWorkingDirectory(workDir.toString())
                .withCommand(inContainer(command).toArray(String[]::new))
                .withStartupCheckStrategy(new IsRunningStartupCheckStrategy());
        for (Path m : mounts) {
            c.withFileSystemBind(m.toString(), m.toString(), BindMode.READ_WRITE);
        }
        c.start();
        container = c;
    }

    private static DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    private InspectContainerResponse.ContainerState state() {
        return docker().inspectContainerCmd(container.getContainerId()).exec().getState();
    }

    synchronized boolean running() {
        return container != null && Boolean.TRUE.equals(state().getRunning());
    }

    synchronized boolean paused() {
        return container != null && Boolean.TRUE.equals(state().getPaused());
    }

    synchronized long pid() {
        return container == null ? -1 : state().getPidLong();
    }

    synchronized void kill() {
        ifStillRunning(() -> {
            if (paused()) {
                docker().unpauseContainerCmd(container.getContainerId()).exec();
            }
            docker().killContainerCmd(container.getContainerId()).exec(); // SIGKILL
        });
    }

    synchronized void stop(Duration grace) {
        ifStillRunning(() -> {
            if (paused()) {
                docker().unpauseContainerCmd(container.getContainerId()).exec();
            }
            docker().stopContainerCmd(container.getContainerId()).withTimeout((int) Math.max(1, grace.toSeconds()))
                    .exec();
        });
    }

    /**
     * Runs a signal-like action on a running container. A container that exits in between
     * (after SHUTDOWN, say) makes Docker answer 304 or 409: that is a no-op, as signalling a
     * process that just died is.
     */
    private void ifStillRunning(Runnable action) {
        if (!running()) {
            return;
        }
        try {
            action.run();
        } catch (DockerException e) {
            if (running()) {
                throw e;
            }
        }
    }

    synchronized void pause() {
        if (running() && !paused()) {
            docker().pauseContainerCmd(container.getContainerId()).exec();
        }
    }

    synchronized void unpause() {
        if (container != null && paused()) {
            docker().unpauseContainerCmd(container.getContainerId()).exec();
        }
    }

    /** Removes the container (stopped or not); its data stays in the bind-mounted directory. */
    synchronized void remove() {
        if (container != null) {
            container.stop();
            container = null;
        }
    }
}
