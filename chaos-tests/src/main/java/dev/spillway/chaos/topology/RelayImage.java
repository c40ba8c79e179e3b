package dev.spillway.chaos.topology;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;

/**
 * The relay's container image ({@code deploy/docker/Dockerfile}) as the container backend and the
 * compose test run it: built by {@code ./spillway image} from this checkout's
 * {@code relay/target/relay.jar}, so that the containers run the code under test.
 *
 * <p>Its name is {@code spillway/relay:checkout-<hash of the checkout's path>}: one Docker engine
 * may serve several checkouts of this repository at once, each with its own jar, and a shared
 * name would let one checkout's tests run another's relay. {@code -Dspillway.image.relay} names
 * an image to use as it is instead (nothing is built then).
 *
 * <p>Thread-safe; the image is built at most once per JVM.
 */
public final class RelayImage {

    private static final String OVERRIDE = "spillway.image.relay";
    private static String built;

    private RelayImage() {}

    /** The image's name for this checkout (or {@code -Dspillway.image.relay}). */
    public static String name() throws IOException {
        String override = System.getProperty(OVERRIDE);
        if (override != null && !override.isBlank()) {
            return override;
        }
        return "spillway/relay:checkout-" + checkoutHash(Checkout.root());
    }

    /**
     * Builds the image from {@link Checkout#relayJar} unless this JVM already did (or the image
     * is given by {@code -Dspillway.image.relay}); returns its name. The first build on a machine
     * without the base image makes it with debootstrap (minutes); later ones take seconds.
     */
    public static synchronized String build() throws IOException {
        String name = name();
        if (System.getProperty(OVERRIDE) != null || name.equals(built)) {
            return name;
        }
        Path root = Checkout.root();
        Process p = new ProcessBuilder(List.of(root.resolve("spillway").toString(), "image", "--jar",
                Checkout.relayJar().toString(), "--tag", name)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            if (!p.waitFor(20, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("./spillway image did not finish within 20 minutes");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while building " + name, e);
        }
        if (p.exitValue() != 0) {
            throw new IOException("./spillway image --tag " + name + " failed (exit " + p.exitValue() + ")");
        }
        built = name;
        return name;
    }

    /**
     * Makes {@code dir} (created if missing) writable by the user {@code image} runs as (the
     * Dockerfile's numeric {@code USER uid:gid}): a bind-mounted spill directory must belong to
     * the relay's unprivileged user. Needs root unless it already does.
     */
    public static void grantSpillDir(Path dir, String image) throws IOException {
        Files.createDirectories(dir);
        String user = DockerClientFactory.instance().client().inspectImageCmd(image).exec().getConfig().getUser();
        if (user == null || user.isEmpty() || user.equals("0") || user.startsWith("0:") || user.equals("root")) {
            return;
        }
        int uid;
        int gid;
        try {
            String[] ug = user.split(":", 2);
            uid = Integer.parseInt(ug[0]);
            gid = ug.length == 2 ? Integer.parseInt(ug[1]) : uid;
        } catch (NumberFormatException e) {
            throw new IOException(image + " runs as user '" + user + "' (expected: a numeric uid[:gid])", e);
        }
        if (!Integer.valueOf(uid).equals(Files.getAttribute(dir, "unix:uid"))) {
            Files.setAttribute(dir, "unix:uid", uid);
            Files.setAttribute(dir, "unix:gid", gid);
        }
    }

    private static String checkoutHash(Path root) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256")
                    .digest(root.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }
}
