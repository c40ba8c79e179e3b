package dev.spillway.relay.spill;

import dev.spillway.relay.metrics.RelayEvents;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spill log's disk-full state and the reserve that lets a full disk drain (see "A full
 * disk" on {@link SpillLog}): a file {@code reserve} of {@link SpillLogConfig#reserveBytes}
 * written at open, given up when a write meets a full disk, written again — which ends the
 * state — once there is room for it and as much besides.
 *
 * <p>The state is set and cleared by the writer thread (and by the log's constructor); any
 * thread may read it.
 */
final class DiskSpace {

    private static final Logger LOG = LoggerFactory.getLogger(DiskSpace.class);
    static final String RESERVE = "reserve";
    /** Less free room than this after a failed write means the disk is full, whatever the error says. */
    private static final long NEARLY_FULL_BYTES = 64 * 1024;

    private final SpillLogConfig config;
    private final SpillStorage storage;
    private volatile boolean diskFull;

    DiskSpace(SpillLogConfig config, SpillStorage storage) {
        this.config = config;
        this.storage = storage;
    }

    boolean isDiskFull() {
        return diskFull;
    }

    /**
     * True when a failed write means the disk is full: the error says so (ENOSPC, EDQUOT), or —
     * whatever language the error is in — the file system has less than 64 KiB left.
     */
    boolean isNoSpace(Throwable t) {
        if (mentionsNoSpace(t)) {
            return true;
        }
        try {
            return storage.usableSpace(config.directory()) < NEARLY_FULL_BYTES;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** True when {@code t} (or a cause) is the file system saying it has no room. */
    static boolean mentionsNoSpace(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
                return true;
            }
        }
        return false;
    }

    /** Deletes the reserve; true when there was one. */
    boolean giveUpReserve() throws IOException {
        return storage.delete(reservePath());
    }

    /** Writer thread: a write found the disk full. Gives up the reserve so the log can drain. */
    void enterDiskFull(Throwable cause) {
        if (!diskFull) {
            diskFull = true;
            RelayEvents.warn("disk-full", "Spill disk full (" + cause.getMessage()
                    + "): refusing appends; replay goes on; " + config.reserveBytes() + " bytes of reserve given up",
                    "directory", config.directory());
        }
        try {
            storage.delete(reservePath());
        } catch (IOException | RuntimeException e) {
            LOG.warn("Could not delete the spill reserve {}", reservePath(), e);
        }
    }

    /** Writer thread, in the disk-full state: takes appends again if the reserve fits and as much room is left. */
    void tryLeaveDiskFull() {
        try {
            if (storage.usableSpace(config.directory()) < 2 * config.reserveBytes()) {
                return;
            }
            takeReserve();
        } catch (IOException | RuntimeException e) {
            LOG.debug("Spill disk still full: {}", e.toString());
            return;
        }
        if (!diskFull) {
            RelayEvents.info("disk-room", "Spill disk has room again: taking appends", "directory", config.directory());
        }
    }

    private Path reservePath() {
        return config.directory().resolve(RESERVE);
    }

    /**
     * Makes sure the reserve file exists at full size; on a full disk, removes what it wrote,
     * sets the disk-full state and returns.
     */
    void takeReserve() throws IOException {
        Path path = reservePath();
        long size = config.reserveBytes();
        try {
            try (FileChannel ch = storage.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                if (ch.size() != size) {
                    ch.truncate(0);
                    ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(size, 64 * 1024));
                    for (long written = 0; written < size; ) {
                        zeros.clear().limit((int) Math.min(zeros.capacity(), size - written));
                        while (zeros.hasRemaining()) {
                            written += ch.write(zeros, written);
                        }
                    }
                    ch.force(true);
                    storage.syncDirectory(config.directory());
                }
            }
            diskFull = false;
        } catch (IOException e) {
            if (!isNoSpace(e)) {
                throw e;
            }
            try {
                storage.delete(path);
            } catch (IOException | RuntimeException ignored) {
                // best effort: the room it held is what the log needs
            }
            if (!diskFull) {
                diskFull = true;
                LOG.warn("Spill disk full at open ({}): refusing appends until there is room", e.getMessage());
            }
        }
    }

}
