package dev.spillway.relay.sink;

import dev.spillway.relay.net.Transport;
import dev.spillway.relay.sink.NodeProbe.Outcome;
import dev.spillway.relay.sink.NodeProbe.Result;
import io.netty.channel.EventLoopGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code serve} checks before any listener opens: that every Sentinel it can reach, and
 * the master they name, accept the relay's TLS and credentials. A refusal is a setting to fix,
 * not an outage — a relay that started anyway would acknowledge messages into its spill log
 * that it could never deliver, and say so only in a log line repeated every second. A node
 * that cannot be reached at all is an outage: the relay starts and spills, as always.
 *
 * <p>Stateless; thread-safe.
 */
public final class Preflight {

    private static final Logger LOG = LoggerFactory.getLogger(Preflight.class);

    private Preflight() {}

    /**
     * Empty when nothing reachable refused the relay; else what failed, one line per node, each
     * naming the node, what it said and the setting to fix. Takes at most about
     * {@code 2 x (connectTimeout + timeout)}.
     */
    public static Optional<String> problems(SinkConfig config) {
        EventLoopGroup group = Transport.get().newGroup(1);
        try {
            return check(config, group);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private static Optional<String> check(SinkConfig config, EventLoopGroup group) {
        Duration timeout = config.timeout();
        Map<String, CompletableFuture<Result>> asked = new LinkedHashMap<>();
        for (String sentinel : config.sentinels()) {
            int colon = sentinel.lastIndexOf(':');
            asked.put(sentinel, NodeProbe.exchange(group, config, sentinel.substring(0, colon),
                    Integer.parseInt(sentinel.substring(colon + 1)), config.sentinelUsername(),
                    config.sentinelPassword(), timeout, sentinelCommands(config)));
        }
        List<String> problems = new ArrayList<>();
        String master = null;
        String namedBy = null;
        int answered = 0;
        for (Map.Entry<String, CompletableFuture<Result>> e : asked.entrySet()) {
            String node = "Sentinel " + e.getKey();
            String host = e.getKey().substring(0, e.getKey().lastIndexOf(':'));
            Result r = e.getValue().join();
            switch (r.outcome()) {
                case TLS_FAILED -> problems.add(tlsProblem(node, host, r, config));
                case AUTH_REFUSED -> problems.add(node + ": authentication refused: " + r.detail()
                        + " (check sink.redis.sentinelUsername and sink.redis.sentinelPassword or "
                        + "sentinelPasswordFile)");
                case NOT_PERMITTED -> problems.add(node + ": the relay's Sentinel user may not do what the relay "
                        + "does: " + r.detail() + " (it needs SENTINEL, PING and PSUBSCRIBE with every channel: "
                        + "'+sentinel +ping +psubscribe &*' for sink.redis.sentinelUsername)");
                case ANSWERED -> {
                    answered++;
                    if (r.detail() != null) {
                        problems.add(node + ": answered " + r.detail()
                                + " (is it a Sentinel of '" + config.masterName()
                                + "'? check sink.redis.sentinels and masterName)");
                    } else if (r.reply().size() == 2 && master == null) {
                        master = r.reply().get(0) + ":" + r.reply().get(1);
                        namedBy = e.getKey();
                    }
                }
                case UNREACHABLE, CLOSED -> unreachable(node, r, config);
            }
        }
        if (problems.isEmpty() && answered > 0 && master == null) {
            problems.add("no reachable Sentinel of " + config.sentinels() + " knows a master named '"
                    + config.masterName() + "' (check sink.redis.masterName)");
        }
        if (problems.isEmpty() && master != null) {
            String node = "Redis master " + master + " (named by Sentinel " + namedBy + ")";
            int colon = master.lastIndexOf(':');
            String host = master.substring(0, colon);
            Result r = NodeProbe.exchange(group, config, host, Integer.parseInt(master.substring(colon + 1)),
                    config.username(), config.password(), timeout, masterCommands(config)).join();
            switch (r.outcome()) {
                case TLS_FAILED -> problems.add(tlsProblem(node, host, r, config));
                case AUTH_REFUSED -> problems.add(node + ": authentication refused: " + r.detail()
                        + " (check sink.redis.username and sink.redis.password or passwordFile)");
                case NOT_PERMITTED -> problems.add(node + ": the relay's Redis user may not do what every write "
                        + "does: " + r.detail() + " (it needs EVAL, EVALSHA, WAIT, ROLE, INFO, TIME, GET, SET, RPUSH "
                        + "and LPUSH, on the keys '" + config.dedupeKeyPrefix() + "*' and '" + config.deadLetterKey()
                        + "' as well as the producers' lists: check the ACL of sink.redis.username)");
                case UNREACHABLE, CLOSED -> unreachable(node, r, config);
                case ANSWERED -> {
                    if (r.detail() != null) {
                        // READONLY, LOADING, OOM...: the node's state, not the relay's settings
                        LOG.warn("Preflight: {} answered {}; starting anyway: messages go to the spill log until "
                                + "it takes writes", node, r.detail());
                    }
                }
            }
            if (problems.isEmpty() && r.outcome() == Outcome.ANSWERED && r.detail() == null) {
                LOG.info("Preflight: {} of {} Sentinel(s) and the master {} accept {} and the "
                        + "relay's credentials", answered, asked.size(), master,
                        config.tls() == null ? "plain TCP" : "TLS");
            }
        }
        return problems.isEmpty() ? Optional.empty() : Optional.of(String.join("\n", problems));
    }

    /**
     * What the relay's own connections send a Sentinel: the watcher's polls, its heartbeat, and
     * its subscription to every event (last: it turns the connection to pub/sub).
     */
    static List<String[]> sentinelCommands(SinkConfig config) {
        return List.of(new String[] {"SENTINEL", "GET-MASTER-ADDR-BY-NAME", config.masterName()},
                new String[] {"SENTINEL", "MASTER", config.masterName()},
                new String[] {"SENTINEL", "REPLICAS", config.masterName()},
                new String[] {"PING"},
                new String[] {"PSUBSCRIBE", "*"});
    }

    /**
     * What every write sends the master, run as the relay's user: {@code INFO server} (how a new
     * connection to the master proves which node it reached), the write script itself with no
     * messages, by its text and by its digest (it reads and sets a mark under
     * {@code sink.dedupeKeyPrefix} that expires in a second, and declares the dead-letter list),
     * {@code TIME} (dead-letter entries), {@code WAIT}, and {@code ROLE} (the replicas counted
     * under {@code minReplicas: all}). An ACL user that may not run one of them, or not on those
     * keys, would otherwise make every batch fail after the relay had acknowledged it into its
     * spill log.
     */
    static List<String[]> masterCommands(SinkConfig config) {
        return List.of(new String[] {"INFO", "server"},
                new String[] {"EVAL", WriteScript.TEXT, "2", config.dedupeKeyPrefix() + "preflight",
                        config.deadLetterKey(), "1", "d", "preflight", "0"},
                new String[] {"EVALSHA", WriteScript.SHA1, "2", config.dedupeKeyPrefix() + "preflight",
                        config.deadLetterKey(), "1", "d", "preflight", "0"},
                new String[] {"TIME"},
                new String[] {"WAIT", "0", "0"},
                new String[] {"ROLE"});
    }

    private static void unreachable(String node, Result r, SinkConfig config) {
        boolean closed = r.outcome() == Outcome.CLOSED;
        LOG.warn("Preflight: {} {} ({}){}; starting anyway: messages go to the spill log until the Sentinel "
                + "group answers", node, closed ? "closed the connection without answering" : "not reachable",
                r.detail(), closed && config.tls() == null ? " — if that port speaks TLS, set sink.redis.tls.enabled"
                        : "");
    }

    /** The failure and the likeliest setting behind it, from what the TLS stack said. */
    static String tlsProblem(String node, String host, Result r, SinkConfig config) {
        String why = r.detail();
        String lower = why.toLowerCase(java.util.Locale.ROOT);
        String hint;
        if (lower.contains("certification path") || lower.contains("pkix") || lower.contains("signature check")) {
            hint = "its certificate is not signed by a CA in " + (config.tls().caFile() == null
                    ? "the JVM's default trust store: set sink.redis.tls.caFile" : "sink.redis.tls.caFile, "
                            + config.tls().caFile());
        } else if (lower.contains("subject alternative name") || lower.contains("no name matching")) {
            hint = "its certificate does not name " + host + ": add it to the certificate's subjectAltName, "
                    + "or connect by a name it has, or set sink.redis.tls.verifyHostname: false";
        } else if (lower.contains("certificate_required") || lower.contains("bad_certificate")
                || lower.contains("unknown_ca") || lower.contains("certificate_unknown")) {
            hint = "it refused the relay's client certificate: check sink.redis.tls.certFile and keyFile"
                    + " (its tls-auth-clients / tls-ca-cert-file)";
        } else if (lower.contains("unrecognized ssl message") || lower.contains("not an ssl/tls record")) {
            hint = "that port does not speak TLS: point the relay at the node's tls-port, or set "
                    + "sink.redis.tls.enabled: false";
        } else {
            hint = "check sink.redis.tls.caFile, certFile, keyFile and verifyHostname";
        }
        return node + ": TLS handshake failed: " + why + " (" + hint + ")";
    }
}
