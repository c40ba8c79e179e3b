package dev.spillway.chaos.topology;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A relay's own small disk: a tmpfs of a fixed size mounted at {@code <relay dir>/spill-disk},
 * holding its spill directory ({@code spill-disk/spill}), so that a chaos fault can fill it and
 * the relay meets a real {@code ENOSPC} — without ever filling the machine's disk. Mounting
 * needs root ({@code mount -t tmpfs}); every {@code mount}/{@code umount} runs bounded in time.
 *
 * <p>Thread-safe (stateless).
 */
public final class SpillDisk {

    private static final Logger LOG = LoggerFactory.getLogger(SpillDisk.class);

    /** Where a relay's spill disk is mounted, under its directory. */
    public static final String MOUNT_DIR = "spill-disk";
    /** The relay's spill directory on that disk. */
    public static final String SPILL_DIR = "spill";
    /** The device name {@code mount} shows, so that an operator can tell these mounts apart. */
    static final String DEVICE = "spillway-spill";

    private static final long COMMAND_TIMEOUT_SECONDS = 10;

    private SpillDisk() {}

    /** The mount point of relay {@code relayDir}'s spill disk. */
    public static Path mountPoint(Path relayDir) {
        return relayDir.resolve(MOUNT_DIR);
    }

    /** Mounts a tmpfs of {@code bytes} at {@code at} (created if missing); an earlier one still mounted is kept. */
    static void mount(Path at, long bytes) throws IOException {
        Files.createDirectories(at);
        if (isMountPoint(at)) {
            LOG.info("Spill disk {} is still mounted from an earlier run; keeping it", at);
            return;
        }
        String size = Math.max(1, bytes / 1024) + "k";
        run(List.of("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0755", DEVICE, at.toString()),
                "mounting the spill disk (" + size + " tmpfs; needs root)");
    }

    /**
     * Unmounts {@code at} if something is mounted there; a busy or hanging {@code umount} is
     * followed by {@code umount -l} (detached now, released once nothing uses it). Never throws.
     */
    static void unmount(Path at) {
        try {
            if (!isMountPoint(at)) {
                return;
            }
            try {
                run(List.of("umount", at.toString()), "unmounting the spill disk");
            } catch (IOException busy) {
                LOG.warn("{}; detaching it lazily", busy.getMessage());
                run(List.of("umount", "-l", at.toString()), "unmounting the spill disk lazily");
            }
        } catch (IOException e) {
            LOG.warn("Cannot unmount spill disk {}: {}", at, e.getMessage());
        }
    }

    /** True when a file system is mounted exactly at {@code dir} ({@code /proc/self/mountinfo}). */
    public static boolean isMountPoint(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        String target = dir.toRealPath().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
            String[] f = line.split(" ");
            if (f.length > 4 && unescape(f[4]).equals(target)) {
                return true;
            }
        }
        return false;
    }

    /** mountinfo writes space, tab, newline and backslash in a path as {@code \040}-style octal. */
    private static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 4 <= s.length()) {
                try {
                    b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                    i += 3;
                    continue;
                } catch (NumberFormatException notOctal) {
                    // a plain backslash
                }
            }
            b.append(c);
        }
        return b.toString();
    }

    private static void run(List<String> command, String what) throws IOException {
        Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        boolean done;
        try {
            done = p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException(what + ": interrupted", e);
        }
        if (!done) {
            p.destroyForcibly();
            throw new IOException(what + ": " + String.join(" ", command) + " did not finish within "
                    + COMMAND_TIMEOUT_SECONDS + " s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) {
            throw new IOException(what + ": " + String.join(" ", command) + " exited " + p.exitValue()
                    + (out.isEmpty() ? "" : ": " + out));
        }
    }
}
