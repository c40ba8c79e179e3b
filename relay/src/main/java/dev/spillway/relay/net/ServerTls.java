package dev.spillway.relay.net;

import dev.spillway.relay.config.ConfigException;
import dev.spillway.relay.config.TlsConfig;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The server side of the relay's TLS listeners: one {@link SslContext} from the PEM files of
 * {@code security.tls}, built at start so that a missing, unreadable or mismatched certificate or
 * key stops the relay with a message naming the file, not the first client's handshake.
 * TLS 1.2 and 1.3 with the JDK's defaults for ciphers; with {@code clientCaFile}, a client must
 * present a certificate that CA signed.
 *
 * <p>Stateless; thread-safe (so is the context it builds).
 */
public final class ServerTls {

    private ServerTls() {}

    public static SslContext context(TlsConfig tls) {
        readable("security.tls.certFile", tls.certFile());
        readable("security.tls.keyFile", tls.keyFile());
        if (tls.clientCaFile() != null) {
            readable("security.tls.clientCaFile", tls.clientCaFile());
        }
        SslContextBuilder b;
        try {
            b = SslContextBuilder.forServer(tls.certFile().toFile(), tls.keyFile().toFile());
        } catch (RuntimeException e) {
            throw new ConfigException("security.tls.certFile " + tls.certFile() + " / keyFile " + tls.keyFile()
                    + ": not a PEM certificate chain and its PKCS#8 private key (" + rootMessage(e) + ")", e);
        }
        b.sslProvider(SslProvider.JDK).protocols("TLSv1.3", "TLSv1.2");
        if (tls.clientCaFile() != null) {
            try {
                b.trustManager(tls.clientCaFile().toFile()).clientAuth(ClientAuth.REQUIRE);
            } catch (RuntimeException e) {
                throw new ConfigException("security.tls.clientCaFile " + tls.clientCaFile()
                        + ": not PEM CA certificates (" + rootMessage(e) + ")", e);
            }
        }
        try {
            return b.build();
        } catch (Exception e) {
            throw new ConfigException("security.tls: cannot use certFile " + tls.certFile() + " with keyFile "
                    + tls.keyFile() + (tls.clientCaFile() == null ? "" : " and clientCaFile " + tls.clientCaFile())
                    + " (" + rootMessage(e) + ")", e);
        }
    }

    private static void readable(String setting, Path file) {
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException(setting + ": " + file + (Files.exists(file) ? " is not a readable file"
                    : " does not exist") + " (expected: a PEM file the relay's user can read)");
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + ": " + t.getMessage();
    }
}
