package dev.spillway.chaos.topology;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private CA and two certificates it signed, made with {@code openssl} (EC P-256, PEM, valid
 * two days): one for the servers (every Redis node and Sentinel) and one for their clients (the
 * relay; also the nodes among themselves). Keys are unencrypted PKCS#8, as Redis and the relay
 * read them.
 *
 * @param caFile the CA's certificate: what everyone trusts
 * @param serverCert the servers' certificate, with the subjectAltNames it was made for
 * @param clientCert a client certificate (no names), for {@code tls-auth-clients yes}
 */
public record Certificates(Path caFile, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {

    /**
     * Makes them in {@code dir}.
     *
     * @param serverNames the server certificate's subjectAltNames, e.g. {@code IP:127.0.0.1},
     *     {@code DNS:localhost}
     */
    public static Certificates make(Path dir, String... serverNames) throws IOException {
        Files.createDirectories(dir);
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
                "-subj", "/CN=Spillway test CA " + dir.getFileName(),
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        // the servers' certificate serves them as clients too (replication, Sentinel to Redis)
        issue(dir, "server", "serverAuth,clientAuth", String.join(",", serverNames));
        issue(dir, "client", "clientAuth", null);
        return new Certificates(dir.resolve("ca.crt"), dir.resolve("server.crt"), dir.resolve("server.key"),
                dir.resolve("client.crt"), dir.resolve("client.key"));
    }

    private static void issue(Path dir, String name, String usage, String subjectAltNames) throws IOException {
        openssl(dir, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=spillway-" + name);
        String ext = "extendedKeyUsage=" + usage + "\n";
        if (subjectAltNames != null && !subjectAltNames.isEmpty()) {
            ext += "subjectAltName=" + subjectAltNames + "\n";
        }
        Files.writeString(dir.resolve(name + ".ext"), ext);
        openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext");
    }

    private static void openssl(Path dir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Path log = dir.resolve("openssl.log");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("openssl " + String.join(" ", args) + " failed: " + Files.readString(log));
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running openssl", e);
        }
    }
}
