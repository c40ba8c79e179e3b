package dev.spillway.relay.spill;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.OptionalLong;
import java.util.zip.CRC32C;

/**
 * The durable replay position: the index of the first record not yet safely in Redis.
 *
 * <p>Version 2 (written): a 1024-byte file of two slots, at offsets 0 and 512 (different disk
 * sectors, so a torn write of one never touches the other). A commit overwrites the older slot
 * in place and fsyncs the file: it allocates no block and creates no file, so the replayer can
 * commit, and segments can be deleted, on a disk that is full. On read the valid slot with the
 * higher generation wins; a torn slot is ignored, which leaves the previous position.
 * <pre>
 * Slot
 * offset size field
 *  0     4    magic "SPWC" (0x53505743)
 *  4     2    version (2)
 *  6     2    reserved (0)
 *  8     8    generation (1, 2, 3, ...)
 * 16     8    committed index (every record below it has been replayed)
 * 24     4    CRC32C of bytes 0..23
 * </pre>
 * Version 1 (read, then replaced): one 20-byte record: magic, version 1, reserved, committed
 * index, CRC32C of bytes 0..15.
 *
 * <p>The file is created as a temp file, fsync'd, renamed into place and the directory
 * fsync'd, so it exists whole or not at all. Not thread-safe; the cursor serialises calls.
 */
final class CursorFile implements Closeable {

    static final String NAME = "cursor";
    static final int FILE_BYTES = 1024;
    private static final int MAGIC = 0x53505743;
    private static final int SLOT_BYTES = 28;
    private static final int SLOT_STRIDE = 512;
    private static final int V1_BYTES = 20;

    private final FileChannel channel;
    private final ByteBuffer slot = ByteBuffer.allocate(SLOT_BYTES);
    private long generation;
    private long committed;

    private CursorFile(FileChannel channel, long generation, long committed) {
        this.channel = channel;
        this.generation = generation;
        this.committed = committed;
    }

    /** The stored position; empty when there is no cursor file; exception when it is damaged. */
    static OptionalLong read(Path dir, SpillStorage storage) throws IOException {
        Path path = dir.resolve(NAME);
        if (!storage.exists(path)) {
            return OptionalLong.empty();
        }
        try (FileChannel ch = storage.open(path, StandardOpenOption.READ)) {
            long[] best = readSlots(ch, path);
            return OptionalLong.of(best[1]);
        }
    }

    /**
     * Opens the cursor file for commits, holding {@code committed}: kept as it is when it is a
     * version 2 file that already says so, otherwise (missing, version 1, damaged, or another
     * position that recovery overruled) written anew.
     */
    static CursorFile open(Path dir, SpillStorage storage, long committed) throws IOException {
        Path path = dir.resolve(NAME);
        if (storage.exists(path)) {
            FileChannel ch = storage.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            try {
                if (ch.size() == FILE_BYTES) {
                    long[] best = readSlots(ch, path);
                    CursorFile f = new CursorFile(ch, best[0], best[1]);
                    if (best[1] != committed) {
                        f.write(committed);
                    }
                    return f;
                }
            } catch (IOException e) {
                // damaged: recovery has already decided the position; write it anew below
            }
            ch.close();
        }
        Path tmp = dir.resolve(NAME + ".tmp");
        try {
            try (FileChannel ch = storage.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                writeWhole(ch, committed);
            }
            storage.rename(tmp, path);
            storage.syncDirectory(dir);
        } catch (IOException e) {
            if (!DiskSpace.mentionsNoSpace(e) || !storage.exists(path)) {
                throw e;
            }
            // A full disk, and a cursor file that must be written anew (damaged, or version 1):
            // overwrite it where it is, within the block it already has. A power cut in the middle
            // leaves a damaged cursor, which means replay from the oldest record: safe.
            storage.delete(tmp);
            try (FileChannel ch = storage.open(path, StandardOpenOption.WRITE)) {
                writeWhole(ch, committed);
            }
        }
        return new CursorFile(storage.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE), 1, committed);
    }

    /** The whole file: generation 1 holding {@code committed}, the other slot empty; fsync'd. */
    private static void writeWhole(FileChannel ch, long committed) throws IOException {
        ByteBuffer whole = ByteBuffer.allocate(FILE_BYTES);
        whole.position(slotOffset(1));
        encode(whole, 1, committed);
        whole.clear();
        while (whole.hasRemaining()) {
            ch.write(whole, whole.position());
        }
        ch.force(true);
    }

    long committed() {
        return committed;
    }

    /**
     * Makes {@code newCommitted} the durable position. If this throws, the file holds the old
     * or the new position (a torn slot reads as the other one) and a later write may try again.
     */
    void write(long newCommitted) throws IOException {
        long next = generation + 1;
        slot.clear();
        encode(slot, next, newCommitted);
        slot.flip();
        long offset = slotOffset(next);
        while (slot.hasRemaining()) {
            channel.write(slot, offset + slot.position());
        }
        channel.force(false);
        generation = next;
        committed = newCommitted;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    /** Generation g lives in slot g % 2, so a write never touches the slot holding the current position. */
    private static int slotOffset(long generation) {
        return (int) (generation % 2) * SLOT_STRIDE;
    }

    private static void encode(ByteBuffer b, long generation, long committed) {
        int start = b.position();
        b.putInt(MAGIC).putShort((short) 2).putShort((short) 0).putLong(generation).putLong(committed);
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(start).limit(start + 24));
        b.putInt((int) crc.getValue());
    }

    /** {generation, committed} of the best slot (generation 0 for a version 1 file). */
    private static long[] readSlots(FileChannel ch, Path path) throws IOException {
        long size = ch.size();
        ByteBuffer all = ByteBuffer.allocate((int) Math.min(size, FILE_BYTES));
        while (all.hasRemaining() && ch.read(all, all.position()) > 0) {
            // read the whole (small) file
        }
        all.flip();
        if (size == V1_BYTES) {
            CRC32C crc = new CRC32C();
            crc.update(all.array(), 0, 16);
            if (all.getInt(0) == MAGIC && all.getShort(4) == 1 && all.getInt(16) == (int) crc.getValue()
                    && all.getLong(8) >= 0) {
                return new long[] {0, all.getLong(8)};
            }
        } else if (size == FILE_BYTES) {
            long[] best = null;
            for (int s = 0; s < 2; s++) {
                int p = s * SLOT_STRIDE;
                CRC32C crc = new CRC32C();
                crc.update(all.array(), p, 24);
                if (all.getInt(p) == MAGIC && all.getShort(p + 4) == 2 && all.getInt(p + 24) == (int) crc.getValue()
                        && all.getLong(p + 16) >= 0 && (best == null || all.getLong(p + 8) > best[0])) {
                    best = new long[] {all.getLong(p + 8), all.getLong(p + 16)};
                }
            }
            if (best != null) {
                return best;
            }
        }
        throw new IOException("damaged cursor file " + path + " (" + size + " bytes)");
    }
}
