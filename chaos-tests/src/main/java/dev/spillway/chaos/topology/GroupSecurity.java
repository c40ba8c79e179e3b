package dev.spillway.chaos.topology;

import dev.spillway.relay.sink.RedisTls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;

/**
 * A Sentinel group with TLS and ACL users everywhere: every Redis node and Sentinel listens on
 * its TLS port only ({@code port 0}), asks clients for a certificate ({@code tls-auth-clients
 * yes}), replicates and talks to its peers over TLS ({@code tls-replication yes}), and has its
 * {@code default} user off. The users: the relay's on the Redis nodes ({@link #user}) and on the
 * Sentinels ({@link #sentinelUser}); {@code replica} for replication ({@code masteruser});
 * {@code sentinel} for the Sentinels on the Redis nodes ({@code auth-user}) and among themselves
 * ({@code sentinel-user}). Passwords are random per group.
 *
 * <p>Immutable; thread-safe.
 */
public record GroupSecurity(Certificates certificates, String user, String password, String sentinelUser,
        String sentinelPassword, String replicationPassword, String internalSentinelPassword) {

    /** Certificates for 127.0.0.1 and localhost, and fresh passwords, in {@code dir}. */
    public static GroupSecurity create(Path dir) throws IOException {
        return create(Certificates.make(dir, "IP:127.0.0.1", "DNS:localhost"));
    }

    public static GroupSecurity create(Certificates certificates) {
        return new GroupSecurity(certificates, "spillway", secret(), "spillway-watch", secret(), secret(), secret());
    }

    private static String secret() {
        byte[] b = new byte[16];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private String tlsDirectives() {
        Certificates c = certificates;
        return "tls-cert-file " + c.serverCert() + "\ntls-key-file " + c.serverKey() + "\ntls-ca-cert-file "
                + c.caFile() + "\ntls-auth-clients yes\ntls-replication yes\n";
    }

    /** What {@code redis.conf}'s {@code ${SECURITY}} becomes for every node, master or replica. */
    String redisDirectives() {
        return tlsDirectives()
                + "user default off\n"
                + "user " + user + " on >" + password + " ~* &* +@all\n"
                + "user replica on >" + replicationPassword + " +psync +replconf +ping\n"
                + "user sentinel on >" + internalSentinelPassword + " allchannels +multi +slaveof +ping +exec "
                + "+subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill\n"
                + "masteruser replica\nmasterauth " + replicationPassword + "\n";
    }

    /** What {@code sentinel.conf}'s {@code ${SECURITY}} becomes (after the {@code monitor} line). */
    String sentinelDirectives(String masterName) {
        return tlsDirectives()
                + "user default off\n"
                + "user " + sentinelUser + " on >" + sentinelPassword + " allchannels +@all\n"
                + "user sentinel on >" + internalSentinelPassword + " allchannels +@all\n"
                + "sentinel sentinel-user sentinel\nsentinel sentinel-pass " + internalSentinelPassword + "\n"
                + "sentinel auth-user " + masterName + " sentinel\nsentinel auth-pass " + masterName + " "
                + internalSentinelPassword + "\n";
    }

    /**
     * A relay's {@code sink.redis} settings for this group: users, passwords from files written
     * into {@code dir}, TLS with the group's CA and the client certificate.
     */
    public Map<String, Object> relaySettings(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path redisPass = Files.writeString(dir.resolve("redis.password"), password + "\n");
        Path sentinelPass = Files.writeString(dir.resolve("sentinel.password"), sentinelPassword + "\n");
        Map<String, Object> tls = new LinkedHashMap<>();
        tls.put("enabled", true);
        tls.put("caFile", certificates.caFile().toString());
        tls.put("certFile", certificates.clientCert().toString());
        tls.put("keyFile", certificates.clientKey().toString());
        Map<String, Object> redis = new LinkedHashMap<>();
        redis.put("username", user);
        redis.put("passwordFile", redisPass.toString());
        redis.put("sentinelUsername", sentinelUser);
        redis.put("sentinelPasswordFile", sentinelPass.toString());
        redis.put("tls", tls);
        return Map.of("sink", Map.of("redis", redis));
    }

    /** How the harness reaches a node of {@code kind}: TLS with the client certificate, as the relay's user. */
    Node.Access access(Node.Kind kind) {
        RedisTls tls = RedisTls.of(certificates.caFile(), certificates.clientCert(), certificates.clientKey(), false);
        try {
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(tls.keyManagerFactory().getKeyManagers(), tls.trustManagerFactory().getTrustManagers(), null);
            SSLSocketFactory factory = ssl.getSocketFactory();
            return kind == Node.Kind.SENTINEL ? new Node.Access(factory, sentinelUser, sentinelPassword)
                    : new Node.Access(factory, user, password);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("TLS context for " + certificates.caFile(), e);
        }
    }

    @Override
    public String toString() {
        return "TLS (CA " + certificates.caFile() + ") and ACL users " + user + " / " + sentinelUser;
    }
}
