package dev.spillway.chaos.topology;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One process of a topology — {@code redis-server}, {@code redis-sentinel}, a relay or HAProxy —
 * with the faults the tests and the chaos suite inject: SIGKILL, SIGSTOP/SIGCONT, SIGTERM,
 * SHUTDOWN, and restart on the same command, configuration and data. Controlled by pid, so a
 * process started by one JVM ({@code ./spillway up}) can be attached to by another
 * ({@code ./spillway chaos kill-master}).
 *
 * <p>Thread-safe.
 */
public final class Node {

    public enum Kind { REDIS, SENTINEL, RELAY, HAPROXY }

    private final String name;
    private final Kind kind;
    private final int port;
    private final int probePort;
    private final Path dir;
    private final List<String> command;
    private volatile ProcessHandle handle;
    private volatile ContainerRunner container;

    /**
     * @param port the node's main port (the relay's RESP port)
     * @param probePort the port whose answer means "ready" (the relay's admin port)
     */
    public Node(String name, Kind kind, int port, int probePort, Path dir, List<String> command) {
        this.name = name;
        this.kind = kind;
        this.port = port;
        this.probePort = probePort;
        this.dir = dir;
        this.command = List.copyOf(command);
    }

    /**
     * Runs this node in a container of {@code image} (the Testcontainers backend) instead of as
     * a process; {@code mounts} are bind-mounted at the same paths.
     */
    public Node inContainer(String image, List<Path> mounts) {
        container = new ContainerRunner(image, mounts);
        return this;
    }

    public boolean inContainer() {
        return container != null;
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    public int port() {
        return port;
    }

    public int probePort() {
        return probePort;
    }

    public String address() {
        return "127.0.0.1:" + port;
    }

    public Path dir() {
        return dir;
    }

    public List<String> command() {
        return command;
    }

    public long pid() {
        if (container != null) {
            return container.pid();
        }
        ProcessHandle h = handle;
        return h == null ? -1 : h.pid();
    }

    public boolean isAlive() {
        if (container != null) {
            return container.running();
        }
        ProcessHandle h = handle;
        return h != null && running(h);
    }

    /** Alive and not a zombie: an exited process whose parent has not reaped it yet no longer runs. */
    private static boolean running(ProcessHandle h) {
        return h.isAlive() && !procState(h.pid()).startsWith("Z");
    }

    /** The state letter of {@code /proc/<pid>/stat} (R, S, T, Z, ...), or "" when unreadable. */
    private static String procState(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** True while the process is stopped (SIGSTOP), as the kernel reports it. */
    public boolean isFrozen() {
        if (container != null) {
            return container.paused();
        }
        long pid = pid();
        return pid >= 0 && isAlive() && procState(pid).equals("T");
    }

    /** Removes a container-backed node's container (nothing for a process). */
    public void removeContainer() {
        if (container != null) {
            container.remove();
        }
    }

    /** Takes over a process started earlier (by pid) if it still runs this node's command. */
    public boolean attach(long pid) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid).filter(Node::running);
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
        if (!cmdline.isEmpty() && !cmdline.contains(command.get(command.size() - 1)) && !cmdline.contains(":" + port)) {
            return false; // the pid was reused by something else
        }
        handle = h.get();
        return true;
    }

    /** Starts the process (again) and waits until it answers. */
    public synchronized void start() throws IOException {
        if (isAlive()) {
            throw new IllegalStateException(name + " is already running (pid " + pid() + ")");
        }
        Files.createDirectories(dir);
        for (int taken : List.of(port, probePort)) {
            // Something else answering on our port would pass the readiness check in our place.
            try (java.net.ServerSocket probe = new java.net.ServerSocket()) {
                probe.setReuseAddress(true);
                probe.bind(new InetSocketAddress("127.0.0.1", taken));
            } catch (IOException inUse) {
                throw new IOException(name + ": port " + taken + " is already in use (an earlier cluster still "
                        + "running? './spillway down', or stop what holds it)", inUse);
            }
        }
        if (container != null) {
            container.start(command, dir);
        } else {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("stdout.log").toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
            handle = p.toHandle();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(kind == Kind.RELAY ? 60 : 15);
        while (!ready()) {
            if (!isAlive() || System.nanoTime() > deadline) {
                throw new IOException(name + " did not start (port " + probePort + "); see " + dir.resolve("stdout.log"));
            }
            sleepMillis(25);
        }
    }

    /** True when the node answers: PING for Redis and Sentinel, a TCP accept otherwise. */
    public boolean ready() {
        if (kind == Kind.REDIS || kind == Kind.SENTINEL) {
            return "PONG".equals(cliQuiet("PING"));
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", probePort), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGKILL: the process dies at once, losing whatever it had not persisted. */
    public void kill() {
        if (container != null) {
            container.kill();
            return;
        }
        ProcessHandle h = handle;
        if (h != null && h.isAlive()) {
            signal("CONT"); // a stopped process dies on SIGKILL too; this lets it be reaped promptly
            h.destroyForcibly();
            awaitExit(h, Duration.ofSeconds(10));
        }
    }

    /** SIGTERM and wait (an orderly shutdown); SIGKILL if it takes longer than {@code grace}. */
    public void terminate(Duration grace) {
        if (container != null) {
            container.stop(grace);
            return;
        }
        ProcessHandle h = handle;
        if (h != null && h.isAlive()) {
            signal("CONT");
            h.destroy();
            if (!awaitExit(h, grace)) {
                kill();
            }
        }
    }

    /** SIGSTOP: the process stops answering but keeps its sockets (a hung server). */
    public void freeze() {
        if (container != null) {
            container.pause();
        } else {
            signal("STOP");
        }
    }

    /** SIGCONT after {@link #freeze}. */
    public void resume() {
        if (container != null) {
            container.unpause();
        } else {
            signal("CONT");
        }
    }

    /** {@code SHUTDOWN} for Redis (it persists first), SIGTERM for the others; waits for the exit. */
    public void shutdown() {
        ProcessHandle h = handle;
        if (kind == Kind.REDIS || kind == Kind.SENTINEL) {
            cliQuiet("SHUTDOWN");
            if (container != null) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (isAlive() && System.nanoTime() < deadline) {
                    sleepMillis(20);
                }
                kill();
            } else if (h != null && !awaitExit(h, Duration.ofSeconds(10))) {
                kill();
            }
        } else {
            terminate(Duration.ofSeconds(15));
        }
    }

    /** Runs {@code redis-cli -p <port> <args>} and returns its trimmed output. */
    public String cli(String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", String.valueOf(port)));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("redis-cli " + String.join(" ", args) + " on " + name + " timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return new String(p.getInputStream().readAllBytes()).trim();
    }

    /** Like {@link #cli} but answers null instead of failing (a frozen or dead node). */
    public String cliQuiet(String... args) {
        try {
            return cli(args);
        } catch (IOException e) {
            return null;
        }
    }

    /** A field of {@code INFO <section>}, or null. */
    public String info(String section, String field) {
        String out = cliQuiet("INFO", section);
        if (out == null) {
            return null;
        }
        for (String line : out.split("\r?\n")) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).trim();
            }
        }
        return null;
    }

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
            sleepMillis(10);
        }
        return true;
    }

    static void sleepMillis(long ms) {
        try {
            TimeUnit.MILLISECONDS.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static Duration elapsedSince(long startNanos) {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    @Override
    public String toString() {
        return name + "@" + port;
    }
}
