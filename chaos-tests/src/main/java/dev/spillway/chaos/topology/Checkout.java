package dev.spillway.chaos.topology;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds this checkout's files: {@code -Dspillway.root}, else upwards from the working directory. */
public final class Checkout {

    private Checkout() {}

    public static Path root() throws IOException {
        String root = System.getProperty("spillway.root");
        Path start = root != null ? Path.of(root).toAbsolutePath() : Path.of("").toAbsolutePath();
        for (Path d = start; d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("sentinel-config/redis.conf.template"))) {
                return d;
            }
        }
        throw new IOException("not inside a Spillway checkout: " + start + " (set -Dspillway.root)");
    }

    public static Path relayJar() throws IOException {
        Path jar = root().resolve("relay/target/relay.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IOException(jar + " is missing: build it with mvn -pl relay -am package -DskipTests");
        }
        return jar;
    }

    /** HAProxy lives in /usr/sbin on Debian, which is not on every user's PATH. */
    public static String haproxyBinary() {
        return Files.isExecutable(Path.of("/usr/sbin/haproxy")) ? "/usr/sbin/haproxy" : "haproxy";
    }
}
