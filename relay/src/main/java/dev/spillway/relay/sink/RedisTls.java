package dev.spillway.relay.sink;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import java.nio.file.Path;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS towards the Redis nodes and the Sentinels ({@code sink.redis.tls}): whom to trust (a PEM
 * CA bundle, or the JVM's default trust store), the client certificate to show (for
 * {@code tls-auth-clients yes}), and whether the server's certificate must name the host
 * connected to. One set of material serves every connection of the relay's, to the Sentinels
 * and to the master ({@link #newHandler}), so all trust the same.
 * The files are read once, when the configuration is built: a missing or malformed file stops
 * the relay at start, naming the setting.
 *
 * <p>Immutable; thread-safe.
 */
public final class RedisTls {

    /** {@code sink.redis.tls.verifyHostname}'s default: on, as a browser would. */
    public static final boolean DEFAULT_VERIFY_HOSTNAME = true;

    private final Path caFile;
    private final Path certFile;
    private final Path keyFile;
    private final boolean verifyHostname;
    private final TrustManagerFactory trust; // null: the JVM's default trust store
    private final KeyManagerFactory keys; // null: no client certificate
    private final SslContext context;

    private RedisTls(Path caFile, Path certFile, Path keyFile, boolean verifyHostname) {
        this.caFile = caFile;
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.verifyHostname = verifyHostname;
        this.trust = caFile == null ? null : PemFiles.trust(caFile, "sink.redis.tls.caFile");
        this.keys = certFile == null ? null
                : PemFiles.keys(certFile, "sink.redis.tls.certFile", keyFile, "sink.redis.tls.keyFile");
        SslContextBuilder b = SslContextBuilder.forClient()
                // Netty's default depends on a system property; say it here, once, for every connection
                .endpointIdentificationAlgorithm(verifyHostname ? "HTTPS" : null);
        if (trust != null) {
            b.trustManager(trust);
        }
        if (keys != null) {
            b.keyManager(keys);
        }
        try {
            this.context = b.build();
        } catch (SSLException e) {
            throw new IllegalArgumentException("sink.redis.tls: " + e.getMessage(), e);
        }
    }

    /**
     * Reads the files.
     *
     * @param caFile PEM CA certificates to trust, or null for the JVM's default trust store
     * @param certFile PEM client certificate chain (leaf first), or null for none
     * @param keyFile PEM (PKCS#8) private key of {@code certFile}; null exactly when it is
     * @throws IllegalArgumentException naming the setting, when a file is missing or malformed
     *     or only one of {@code certFile} and {@code keyFile} is given
     */
    public static RedisTls of(Path caFile, Path certFile, Path keyFile, boolean verifyHostname) {
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException(certFile == null
                    ? "sink.redis.tls.keyFile: " + keyFile + " without certFile (expected: both or neither)"
                    : "sink.redis.tls.certFile: " + certFile + " without keyFile (expected: both or neither)");
        }
        return new RedisTls(caFile, certFile, keyFile, verifyHostname);
    }

    /** The CA bundle trusted, or null for the JVM's default trust store. */
    public Path caFile() {
        return caFile;
    }

    /** The client certificate shown, or null for none. */
    public Path certFile() {
        return certFile;
    }

    public Path keyFile() {
        return keyFile;
    }

    /** True when a server's certificate must name the host connected to (its IP or DNS name). */
    public boolean verifyHostname() {
        return verifyHostname;
    }

    /** The trust as a factory, or null for the JVM's default. */
    public TrustManagerFactory trustManagerFactory() {
        return trust;
    }

    /** The client identity as a factory, or null when none is configured. */
    public KeyManagerFactory keyManagerFactory() {
        return keys;
    }

    /**
     * A handler for a connection to {@code host:port}: the host goes into SNI and into the
     * hostname check.
     */
    public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
        return context.newHandler(alloc, host, port);
    }

    @Override
    public String toString() {
        return "TLS (CA " + (caFile == null ? "the JVM's default trust store" : caFile) + ", client certificate "
                + (certFile == null ? "none" : certFile) + ", hostname verification " + (verifyHostname ? "on" : "off")
                + ")";
    }
}
