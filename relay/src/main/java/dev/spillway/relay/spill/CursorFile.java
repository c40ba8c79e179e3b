package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.OptionalLong;
import java.util.zip.CRC32C;

/**
 * The durable replay position: the index of the first record not yet safely in Redis.
 *
 * <pre>
 * offset size field
 *  0     4    magic "SPWC" (0x53505743)
 *  4     2    version (1)
 *  6     2    reserved (0)
 *  8     8    committed index (every record below it has been replayed)
 * 16     4    CRC32C of bytes 0..15
 * </pre>
 *
 * Written as temp file, fsync, atomic rename, directory fsync, so a crash leaves the old or
 * the new position, never a mix. Not thread-safe; the log serialises calls.
 */
final class CursorFile {

    static final String NAME = "cursor";
    private static final int MAGIC = 0x53505743;
    private static final short VERSION = 1;
    private static final int BYTES = 20;

    private CursorFile() {}

    /** The stored position; empty when there is no cursor file; exception when it is damaged. */
    static OptionalLong read(Path dir) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(dir.resolve(NAME));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, Math.min(16, bytes.length));
        if (bytes.length != BYTES || b.getInt(0) != MAGIC || b.getShort(4) != VERSION
                || b.getInt(16) != (int) crc.getValue() || b.getLong(8) < 0) {
            throw new IOException("damaged cursor file " + dir.resolve(NAME) + " (" + bytes.length + " bytes)");
        }
        return OptionalLong.of(b.getLong(8));
    }

    static void write(Path dir, long committedIndex, ChannelFactory channels) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(BYTES);
        b.putInt(MAGIC).putShort(VERSION).putShort((short) 0).putLong(committedIndex);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, 16);
        b.putInt((int) crc.getValue()).flip();
        Path tmp = dir.resolve(NAME + ".tmp");
        try (FileChannel ch = channels.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, dir.resolve(NAME), StandardCopyOption.ATOMIC_MOVE);
        SegmentFile.fsyncDirectory(dir);
    }
}
