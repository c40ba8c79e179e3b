package dev.spillway.chaos.topology;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A {@link Node} run in a container ({@link ContainerRunner}: Testcontainers, host networking):
 * the faults become {@code docker kill}, {@code pause}/{@code unpause} and {@code stop}.
 *
 * <p>Thread-safe.
 */
public final class ContainerNode extends Node {

    private final ContainerRunner container;

    ContainerNode(String name, Kind kind, int port, int probePort, Path dir, List<String> command, String image,
            List<Path> mounts) {
        super(name, kind, port, probePort, dir, command);
        this.container = new ContainerRunner(image, mounts);
    }

    @Override
    public boolean inContainer() {
        return true;
    }

    @Override
    public long pid() {
        return container.pid();
    }

    @Override
    public boolean isAlive() {
        return container.running();
    }

    @Override
    public boolean isFrozen() {
        return container.paused();
    }

    @Override
    public void removeContainer() {
        container.remove();
    }

    @Override
    void launch() {
        container.start(command(), dir());
    }

    @Override
    public void kill() {
        container.kill();
    }

    @Override
    public void terminate(Duration grace) {
        container.stop(grace);
    }

    @Override
    public void freeze() {
        container.pause();
    }

    @Override
    public void resume() {
        container.unpause();
    }

    @Override
    void awaitExitOrKill(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (isAlive() && System.nanoTime() < deadline) {
            Timing.sleepMillis(20);
        }
        kill();
    }
}
