package dev.spillway.relay.config;

import java.nio.file.Path;

/**
 * The relay's own certificate for its TLS listeners ({@code listeners.<name>.tls: true}), PEM
 * files: the certificate chain, its PKCS#8 private key, and, when set, the CA whose
 * certificates clients must present (mutual TLS: a client without one is refused).
 *
 * @param clientCaFile null when clients need no certificate
 */
public record TlsConfig(Path certFile, Path keyFile, Path clientCaFile) {

    public TlsConfig {
        if (certFile == null || keyFile == null) {
            throw new ConfigException("security.tls: certFile and keyFile go together (expected: both, PEM files)");
        }
    }

    public boolean clientCertificatesRequired() {
        return clientCaFile != null;
    }
}
