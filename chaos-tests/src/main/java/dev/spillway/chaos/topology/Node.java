package dev.spillway.chaos.topology;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@code redis-server} or {@code redis-sentinel} process of a {@link SentinelGroup}, with
 * the faults the tests inject: SIGKILL, SIGSTOP/SIGCONT, SHUTDOWN, restart on the same
 * configuration and data.
 *
 * <p>Thread-safe (methods are synchronized).
 */
public final class Node {

    public enum Kind { REDIS, SENTINEL }

    private final String name;
    private final Kind kind;
    private final int port;
    private final Path dir;
    private final Path conf;
    private Process process;
    private boolean frozen;

    Node(String name, Kind kind, int port, Path dir, Path conf) {
        this.name = name;
        this.kind = kind;
        this.port = port;
        this.dir = dir;
        this.conf = conf;
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

    public String address() {
        return "127.0.0.1:" + port;
    }

    public Path dir() {
        return dir;
    }

    public synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    public synchronized boolean isFrozen() {
        return frozen;
    }

    /** Starts the process (again) on its configuration and data directory and waits for PING. */
    public synchronized void start() throws IOException {
        if (isAlive()) {
            throw new IllegalStateException(name + " is already running (pid " + process.pid() + ")");
        }
        String binary = kind == Kind.REDIS ? "redis-server" : "redis-sentinel";
        process = new ProcessBuilder(binary, conf.toString())
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.log").toFile())
                .start();
        frozen = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!"PONG".equals(cliQuiet("PING"))) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IOException(name + " did not start on port " + port + "; see " + dir.resolve("stdout.log"));
            }
            Thread.onSpinWait();
            sleepMillis(20);
        }
    }

    /** SIGKILL: the process dies at once, losing whatever it had not persisted. */
    public synchronized void kill() throws InterruptedException {
        if (process != null && process.isAlive()) {
            if (frozen) {
                signal("CONT"); // a stopped process dies on SIGKILL too, but let the kernel reap it promptly
            }
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        frozen = false;
    }

    /** SIGSTOP: the process stops answering but keeps its sockets (a hung server). */
    public synchronized void freeze() {
        signal("STOP");
        frozen = true;
    }

    /** SIGCONT after {@link #freeze}. */
    public synchronized void resume() {
        signal("CONT");
        frozen = false;
    }

    /** {@code SHUTDOWN} (persisting first), then waits for the process to exit. */
    public synchronized void shutdown() throws InterruptedException {
        cliQuiet("SHUTDOWN");
        if (process != null && !process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
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
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            Process p = new ProcessBuilder("kill", "-" + sig, String.valueOf(process.pid())).start();
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            throw new IllegalStateException("kill -" + sig + " " + process.pid() + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
