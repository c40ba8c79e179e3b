package dev.spillway.relay.spill;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on a spill directory, held from open to close: a file {@code lock} in it,
 * locked with {@link FileChannel#tryLock} (an {@code fcntl} lock, which the kernel drops when
 * the process dies, however it dies) and holding the holder's pid. A second relay, or a restart
 * that overlaps the old process, finds it locked and refuses to start rather than write into a
 * log another process is writing.
 */
final class DirectoryLock implements Closeable {

    static final String NAME = "lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static DirectoryLock acquire(Path dir, SpillStorage storage) throws IOException {
        Path path = dir.resolve(NAME);
        FileChannel ch = storage.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null; // held by this very process
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            String holder = holder(ch);
            ch.close();
            throw new SpillException("spill directory " + dir.toAbsolutePath() + " is in use by another process ("
                    + holder + "); two relays must never share a spill directory");
        }
        try {
            ch.truncate(0);
            ByteBuffer pid = ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII));
            while (pid.hasRemaining()) {
                ch.write(pid, pid.position());
            }
        } catch (IOException | RuntimeException e) {
            // the pid is for the operator's benefit only; the lock is what counts
        }
        return new DirectoryLock(ch, lock);
    }

    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            String pid = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            return pid.isEmpty() ? "pid unknown" : "pid " + pid;
        } catch (IOException e) {
            return "pid unknown";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
