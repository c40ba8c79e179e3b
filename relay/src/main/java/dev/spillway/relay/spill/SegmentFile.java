package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
    static final short VERSION = 1;
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
        return b.getInt(p) == MAGIC && b.getShort(p + 4) == VERSION && b.getLong(p + 8) == baseIndex
                && b.getInt(p + 16) == (int) crc.getValue();
    }

    /**
     * Creates a segment atomically: header written to a temp file, fsync'd, renamed into place,
     * directory fsync'd. A crash leaves either no segment or a segment with a valid header.
     */
    static SegmentFile create(Path dir, long baseIndex, ChannelFactory channels) throws IOException {
        Path target = pathFor(dir, baseIndex);
        Path tmp = dir.resolve(target.getFileName() + ".tmp");
        try (FileChannel ch = channels.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            ByteBuffer h = header(baseIndex);
            while (h.hasRemaining()) {
                ch.write(h);
            }
            ch.force(true);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        fsyncDirectory(dir);
        return new SegmentFile(target, baseIndex);
    }

    static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
