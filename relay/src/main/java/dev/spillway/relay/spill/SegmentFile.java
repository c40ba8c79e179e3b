package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * One segment file of the spill log: its name, its base index and its header. The layout is
 * documented on {@link SpillLog}.
 *
 * <p>Instances are immutable; {@link #size} is tracked by the log, not here.
 */
final class SegmentFile {

    static final int MAGIC = 0x5350494C; // "SPIL"
    /** Version written; version 1 segments (no request marks in records) are still read. */
    static final short VERSION = 2;
    static final int HEADER_BYTES = 20;
    static final String SUFFIX = ".seg";

    private final Path path;
    private final long baseIndex;

    SegmentFile(Path path, long baseIndex) {
        this.path = path;
        this.baseIndex = baseIndex;
    }

    Path path() {
        return path;
    }

    long baseIndex() {
        return baseIndex;
    }

    static Path pathFor(Path dir, long baseIndex) {
        return dir.resolve(String.format("%020d%s", baseIndex, SUFFIX));
    }

    /** The base index a segment file name stands for, or -1 when it is not a segment name. */
    static long parseBaseIndex(Path file) {
        String name = file.getFileName().toString();
        if (!name.endsWith(SUFFIX) || name.length() != 20 + SUFFIX.length()) {
            return -1;
        }
        try {
            return Long.parseLong(name.substring(0, 20));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static ByteBuffer header(long baseIndex) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
        b.putInt(MAGIC).putShort(VERSION).putShort((short) 0).putLong(baseIndex);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 16);
        b.putInt((int) crc.getValue());
        return b.flip();
    }

    /** True when the first {@link #HEADER_BYTES} of {@code b} are a valid header for {@code baseIndex}. */
    static boolean validHeader(ByteBuffer b, long baseIndex) {
        if (b.remaining() < HEADER_BYTES) {
            return false;
        }
        int p = b.position();
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(p).limit(p + 16));
        short version = b.getShort(p + 4);
        return b.getInt(p) == MAGIC && (version == 1 || version == VERSION) && b.getLong(p + 8) == baseIndex
                && b.getInt(p + 16) == (int) crc.getValue();
    }

    /**
     * Creates a segment atomically: header written to a temp file, fsync'd, renamed into place,
     * directory fsync'd. A crash leaves either no segment or a segment with a valid header and
     * no records. When any step fails, whatever was created is removed again (durably) before
     * the exception is thrown; if even that fails, {@link UncleanCreateException} says so, and
     * the caller must not write on, because a segment it does not know of may be on disk.
     */
    static SegmentFile create(Path dir, long baseIndex, SpillStorage storage) throws IOException {
        Path target = pathFor(dir, baseIndex);
        Path tmp = dir.resolve(target.getFileName() + ".tmp");
        try {
            try (FileChannel ch = storage.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ByteBuffer h = header(baseIndex);
                while (h.hasRemaining()) {
                    ch.write(h, h.position());
                }
                ch.force(true);
            }
            storage.rename(tmp, target);
            storage.syncDirectory(dir);
            return new SegmentFile(target, baseIndex);
        } catch (IOException | RuntimeException e) {
            try {
                storage.delete(tmp);
                storage.delete(target);
                storage.syncDirectory(dir);
            } catch (IOException | RuntimeException cleanup) {
                e.addSuppressed(cleanup);
                throw new UncleanCreateException("creating " + target + " failed (" + e.getMessage()
                        + ") and it could not be removed again", e);
            }
            throw e;
        }
    }

    /** A failed create may have left the segment on disk. */
    static final class UncleanCreateException extends IOException {
        UncleanCreateException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
