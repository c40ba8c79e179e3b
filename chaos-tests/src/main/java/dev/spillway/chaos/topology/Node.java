package dev.spillway.chaos.topology;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import javax.net.ssl.SSLSocketFactory;
import redis.clients.jedis.ClientSetInfoConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.util.SafeEncoder;

/**
 * One server of a topology — {@code redis-server}, {@code redis-sentinel}, a relay or HAProxy —
 * with the faults the tests and the chaos suite inject: SIGKILL, SIGSTOP/SIGCONT, SIGTERM,
 * SHUTDOWN, and restart on the same command, configuration and data. It runs as a process
 * ({@link ProcessNode}) or in a container ({@link ContainerNode}); what does not depend on
 * which — starting and waiting until it answers, talking to it — lives here.
 *
 * <p>Thread-safe.
 */
public abstract sealed class Node permits ProcessNode, ContainerNode {

    public enum Kind { REDIS, SENTINEL, RELAY, HAPROXY }

    /**
     * How {@link #cli} reaches a node that wants TLS and an ACL user ({@link GroupSecurity});
     * {@code ssl} null for plain TCP, {@code password} null for no AUTH.
     */
    public record Access(SSLSocketFactory ssl, String user, String password) {
        static final Access PLAIN = new Access(null, null, null);
    }

    /** How long one command may take, connecting included: a frozen node never answers. */
    private static final int COMMAND_TIMEOUT_MILLIS = 5_000;

    private final String name;
    private final Kind kind;
    private final int port;
    private final int probePort;
    private final Path dir;
    private final List<String> command;
    private volatile Access access = Access.PLAIN;

    /**
     * @param port the node's main port (the relay's RESP port)
     * @param probePort the port whose answer means "ready" (the relay's admin port)
     */
    Node(String name, Kind kind, int port, int probePort, Path dir, List<String> command) {
        this.name = name;
        this.kind = kind;
        this.port = port;
        this.probePort = probePort;
        this.dir = dir;
        this.command = List.copyOf(command);
    }

    /** A node that runs {@code command} as a process of this machine. */
    public static Node process(String name, Kind kind, int port, int probePort, Path dir, List<String> command) {
        return new ProcessNode(name, kind, port, probePort, dir, command);
    }

    /**
     * The same node run in a container of {@code image} (the Testcontainers backend) instead;
     * {@code mounts} are bind-mounted at the same paths. Before {@link #start} only.
     */
    public Node inContainer(String image, List<Path> mounts) {
        Node n = new ContainerNode(name, kind, port, probePort, dir, command, image, mounts);
        n.access(access);
        return n;
    }

    public abstract boolean inContainer();

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

    /** How {@link #cli} connects from now on (set before {@link #start}: readiness is a PING). */
    void access(Access access) {
        this.access = access;
    }

    /** The process id on this machine, or -1 when not started. */
    public abstract long pid();

    public abstract boolean isAlive();

    /** True while the node is stopped (SIGSTOP, or a paused container). */
    public abstract boolean isFrozen();

    /** Removes a container-backed node's container (nothing for a process). */
    public void removeContainer() {
    }

    /** Starts the node (again) and waits until it answers. */
    public synchronized void start() throws IOException {
        if (isAlive()) {
            throw new IllegalStateException(name + " is already running (pid " + pid() + ")");
        }
        Files.createDirectories(dir);
        for (int taken : List.of(port, probePort)) {
            // Something else answering on our port would pass the readiness check in our place.
            try (ServerSocket probe = new ServerSocket()) {
                probe.setReuseAddress(true);
                probe.bind(new InetSocketAddress("127.0.0.1", taken));
            } catch (IOException inUse) {
                throw new IOException(name + ": port " + taken + " is already in use (an earlier cluster still "
                        + "running? './spillway down', or stop what holds it)", inUse);
            }
        }
        launch();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(kind == Kind.RELAY ? 60 : 15);
        while (!ready()) {
            if (!isAlive() || System.nanoTime() > deadline) {
                throw new IOException(name + " did not start (port " + probePort + "); see " + dir.resolve("stdout.log"));
            }
            Timing.sleepMillis(25);
        }
    }

    /** Runs {@link #command} in {@link #dir}, output appended to {@code stdout.log}; returns at once. */
    abstract void launch() throws IOException;

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

    /** SIGKILL: the node dies at once, losing whatever it had not persisted. */
    public abstract void kill();

    /** SIGTERM and wait (an orderly shutdown); SIGKILL if it takes longer than {@code grace}. */
    public abstract void terminate(Duration grace);

    /** SIGSTOP: the node stops answering but keeps its sockets (a hung server). */
    public abstract void freeze();

    /** SIGCONT after {@link #freeze}. */
    public abstract void resume();

    /** {@code SHUTDOWN} for Redis (it persists first), SIGTERM for the others; waits for the exit. */
    public void shutdown() {
        if (kind == Kind.REDIS || kind == Kind.SENTINEL) {
            cliQuiet("SHUTDOWN");
            awaitExitOrKill(Duration.ofSeconds(10));
        } else {
            terminate(Duration.ofSeconds(15));
        }
    }

    /** Waits up to {@code timeout} for the node to exit on its own (after SHUTDOWN), then SIGKILLs it. */
    abstract void awaitExitOrKill(Duration timeout);

    /**
     * Sends one command on a new connection and returns the reply as text, trimmed, as
     * {@code redis-cli} prints it when its output is not a terminal: a string or status as it
     * is, an integer in digits, nil as nothing, an array's elements one a line, an error reply
     * as its message ({@code ERR ...}).
     *
     * @throws IOException when the node cannot be reached or does not answer within 5 s
     */
    public String cli(String... args) throws IOException {
        Access a = access;
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(COMMAND_TIMEOUT_MILLIS).socketTimeoutMillis(COMMAND_TIMEOUT_MILLIS)
                .clientSetInfoConfig(ClientSetInfoConfig.DISABLED).user(a.user()).password(a.password());
        if (a.ssl() != null) {
            config.ssl(true).sslSocketFactory(a.ssl());
        }
        try (Jedis j = new Jedis(new HostAndPort("127.0.0.1", port), config.build())) {
            byte[] verb = SafeEncoder.encode(args[0]);
            return text(j.sendCommand(() -> verb, Arrays.copyOfRange(args, 1, args.length))).trim();
        } catch (JedisDataException errorReply) {
            return errorReply.getMessage().trim();
        } catch (JedisException e) {
            throw new IOException(String.join(" ", args) + " on " + name + ": " + e.getMessage(), e);
        }
    }

    private static String text(Object reply) {
        if (reply == null) {
            return "";
        }
        if (reply instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        if (reply instanceof List<?> elements) {
            return elements.stream().map(Node::text).collect(Collectors.joining("\n"));
        }
        return String.valueOf(reply);
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

    @Override
    public String toString() {
        return name + "@" + port;
    }
}
