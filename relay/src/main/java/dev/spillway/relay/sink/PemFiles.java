package dev.spillway.relay.sink;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * PEM files as the JDK's TLS wants them: a CA bundle as a {@link TrustManagerFactory}, a
 * certificate chain and its private key as a {@link KeyManagerFactory} — in memory, so no
 * trust store or key store file (and no store password) is needed. Errors name the setting
 * and say what was expected.
 *
 * <p>Stateless; thread-safe.
 */
final class PemFiles {

    private static final Pattern PKCS8 = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
    private static final char[] NO_PASSWORD = new char[0];

    private PemFiles() {}

    /** Trust in exactly the certificates of {@code caFile}. */
    static TrustManagerFactory trust(Path caFile, String setting) {
        List<Certificate> cas = certificates(caFile, setting);
        try {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            for (int i = 0; i < cas.size(); i++) {
                store.setCertificateEntry("ca-" + i, cas.get(i));
            }
            TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            f.init(store);
            return f;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException(setting + ": " + caFile + ": " + e.getMessage(), e);
        }
    }

    /** The client identity: the chain in {@code certFile} (leaf first) and the key in {@code keyFile}. */
    static KeyManagerFactory keys(Path certFile, String certSetting, Path keyFile, String keySetting) {
        List<Certificate> chain = certificates(certFile, certSetting);
        PrivateKey key = privateKey(keyFile, keySetting);
        if (!matches(key, chain.get(0))) {
            throw new IllegalArgumentException(certSetting + " / " + keySetting + ": " + certFile + ", " + keyFile
                    + ": the key is not the certificate's (expected: a certificate and the private key it was "
                    + "issued for, leaf certificate first)");
        }
        try {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("client", key, NO_PASSWORD, chain.toArray(Certificate[]::new));
            KeyManagerFactory f = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            f.init(store, NO_PASSWORD);
            return f;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalArgumentException(certSetting + " / " + keySetting + ": " + certFile + ", " + keyFile
                    + ": " + e.getMessage() + " (expected: a certificate and the private key it was issued for)", e);
        }
    }

    /** True when {@code key} signs what {@code cert}'s public key verifies: they are one pair. */
    private static boolean matches(PrivateKey key, Certificate cert) {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448
        };
        byte[] probe = "spillway key check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(cert.getPublicKey());
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false; // e.g. an EC key for an RSA certificate
        }
    }

    private static List<Certificate> certificates(Path file, String setting) {
        try (InputStream in = Files.newInputStream(file)) {
            List<Certificate> certs = List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(in));
            if (certs.isEmpty()) {
                throw new IllegalArgumentException(setting + ": " + file + ": no certificate in it (expected: PEM, "
                        + "-----BEGIN CERTIFICATE-----)");
            }
            return certs;
        } catch (IOException e) {
            throw new IllegalArgumentException(setting + ": " + file + ": cannot read it (" + e + ")", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(setting + ": " + file + ": not a PEM certificate file ("
                    + e.getMessage() + ")", e);
        }
    }

    private static PrivateKey privateKey(Path file, String setting) {
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException(setting + ": " + file + ": cannot read it (" + e + ")", e);
        }
        Matcher m = PKCS8.matcher(pem);
        if (!m.find()) {
            throw new IllegalArgumentException(setting + ": " + file + ": no unencrypted PKCS#8 key in it (expected: "
                    + "-----BEGIN PRIVATE KEY-----; convert with 'openssl pkcs8 -topk8 -nocrypt')");
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(1));
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException notThisOne) {
                // try the next algorithm
            }
        }
        throw new IllegalArgumentException(setting + ": " + file + ": a key of an unsupported algorithm "
                + "(expected: RSA, EC, Ed25519 or Ed448)");
    }
}
