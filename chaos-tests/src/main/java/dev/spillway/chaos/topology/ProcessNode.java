package dev.spillway.chaos.topology;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A {@link Node} run as a process of this machine. Controlled by pid, so a process started by
 * one JVM ({@code ./spillway up}) can be attached to by another ({@code ./spillway chaos
 * kill-master}).
 *
 * <p>Thread-safe.
 */
public final class ProcessNode extends Node {

    private volatile ProcessHandle handle;

    ProcessNode(String name, Kind kind, int port, int probePort, Path dir, List<String> command) {
        super(name, kind, port, probePort, dir, command);
    }

    @Override
    public boolean inContainer() {
        return false;
    }

    @Override
    public long pid() {
        ProcessHandle h = handle;
        return h == null ? -1 : h.pid();
    }

    @Override
    public boolean isAlive() {
        ProcessHandle h = handle;
        return h != null && running(h);
    }

    /**
     * Alive and not a zombie: an exited process whose parent has not reaped it yet no longer runs,
     * and one whose {@code /proc} entry is gone (reaped between the two looks) does not either.
     */
    private static boolean running(ProcessHandle h) {
        if (!h.isAlive()) {
            return false;
        }
        String state = procState(h.pid());
        return !state.isEmpty() && !state.startsWith("Z") && !state.startsWith("X");
    }

    /** The state letter of {@code /proc/<pid>/stat} (R, S, T, Z, ...), or "" when unreadable. */
    private static String procState(long pid) {
        return ProcStat.read(pid).map(s -> String.valueOf(s.state())).orElse("");
    }

    /** True while the process is stopped (SIGSTOP), as the kernel reports it. */
    @Override
    public boolean isFrozen() {
        long pid = pid();
        return pid >= 0 && isAlive() && procState(pid).equals("T");
    }

    /** Takes over a process started earlier (by pid) if it still runs this node's command. */
    public boolean attach(long pid) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid).filter(ProcessNode::running);
        if (h.isEmpty()) {
            return false;
        }
        // Redis rewrites its process title to "redis-server 127.0.0.1:<port>"; others keep their arguments.
        String cmdline;
        try {
            cmdline = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"))).replace('\0', ' ');
        } catch (IOException e) {
            cmdline = h.get().info().commandLine().orElse("");
        }
        String lastArgument = command().get(command().size() - 1);
        if (!cmdline.isEmpty() && !cmdline.contains(lastArgument) && !cmdline.contains(":" + port())) {
            return false; // the pid was reused by something else
        }
        handle = h.get();
        return true;
    }

    @Override
    void launch() throws IOException {
        Process p = new ProcessBuilder(command()).directory(dir().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir().resolve("stdout.log").toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        handle = p.toHandle();
    }

    @Override
    public void kill() {
        ProcessHandle h = handle;
        if (h != null && h.isAlive()) {
            signal("CONT"); // a stopped process dies on SIGKILL too; this lets it be reaped promptly
            h.destroyForcibly();
            awaitExit(h, Duration.ofSeconds(10));
        }
    }

    @Override
    public void terminate(Duration grace) {
        ProcessHandle h = handle;
        if (h != null && h.isAlive()) {
            signal("CONT");
            h.destroy();
            if (!awaitExit(h, grace)) {
                kill();
            }
        }
    }

    @Override
    public void freeze() {
        signal("STOP");
    }

    @Override
    public void resume() {
        signal("CONT");
    }

    @Override
    void awaitExitOrKill(Duration timeout) {
        ProcessHandle h = handle;
        if (h != null && !awaitExit(h, timeout)) {
            kill();
        }
    }

    /**
     * Sends {@code SIGSTOP} or {@code SIGCONT} with the {@code kill} command: {@link ProcessHandle}
     * sends only SIGTERM ({@code destroy}) and SIGKILL ({@code destroyForcibly}).
     */
    private void signal(String sig) {
        ProcessHandle h = handle;
        if (h == null || !h.isAlive()) {
            return;
        }
        try {
            Process p = new ProcessBuilder("kill", "-" + sig, String.valueOf(h.pid())).start();
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException("kill -" + sig + " " + h.pid() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Polls rather than {@code onExit()}: for a process that is not this JVM's child (one that
     * {@code up} started), {@code onExit()} backs off to seconds between looks.
     */
    private static boolean awaitExit(ProcessHandle h, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (running(h)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Timing.sleepMillis(10);
        }
        return true;
    }
}
