package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real files whose operations fail on command: the Nth write (after writing half of its bytes,
 * as a full disk does), the Nth fsync, every write, fsync and truncate from some point on (a
 * disk that is gone), the next directory sync, or an fsync that first waits on a latch. Counts
 * only segment files, so creating temp and cursor files behaves normally unless
 * {@link #failCreates} is set.
 */
final class FaultyStorage implements SpillStorage {

    static final String ENOSPC = "No space left on device";

    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger forces = new AtomicInteger();
    volatile int failWriteNumber = -1;
    /** What the failing write says: a full disk by default. */
    volatile String writeError = ENOSPC;
    volatile int failForceNumber = -1;
    volatile boolean diskGone;
    volatile boolean failCreates;
    /** Fails the next N directory syncs. */
    final AtomicInteger failDirectorySyncs = new AtomicInteger();
    /** Fails the next N opens of a segment for writing that are not creates (the writer's open after a roll). */
    final AtomicInteger failSegmentOpens = new AtomicInteger();
    /** Truncates of segments fail (a disk that is going). */
    volatile boolean failTruncates;
    /** When set, the next segment write waits for this latch first (and then succeeds). */
    volatile CountDownLatch writeGate;
    /** Counted down when a write starts waiting on {@link #writeGate}. */
    final CountDownLatch writeWaiting = new CountDownLatch(1);
    /** When set, the next segment fsync waits for this latch, then fails. */
    volatile CountDownLatch forceGate;
    /** Counted down when an fsync starts waiting on {@link #forceGate}. */
    final CountDownLatch forceWaiting = new CountDownLatch(1);

    @Override
    public void syncDirectory(Path dir) throws IOException {
        if (failDirectorySyncs.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new IOException("Input/output error (directory fsync)");
        }
        SpillStorage.super.syncDirectory(dir);
    }

    @Override
    public FileChannel open(Path path, OpenOption... options) throws IOException {
        String name = path.getFileName().toString();
        if (failCreates && name.endsWith(".tmp")) {
            throw new IOException(ENOSPC);
        }
        if (name.endsWith(SegmentFile.SUFFIX) && !java.util.Arrays.asList(options).contains(StandardOpenOption.READ)
                && failSegmentOpens.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new IOException("Too many open files");
        }
        FileChannel real = FileChannel.open(path, options);
        return name.endsWith(SegmentFile.SUFFIX) ? new Faulty(real) : real;
    }

    private final class Faulty extends FileChannel {
        private final FileChannel d;

        Faulty(FileChannel delegate) {
            this.d = delegate;
        }

        private int checkedWrite(ByteBuffer src, long position) throws IOException {
            CountDownLatch gate = writeGate;
            if (gate != null) {
                writeGate = null;
                writeWaiting.countDown();
                try {
                    gate.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (diskGone) {
                throw new IOException(ENOSPC);
            }
            if (writes.incrementAndGet() == failWriteNumber) {
                ByteBuffer half = src.duplicate();
                half.limit(half.position() + half.remaining() / 2);
                d.write(half, position);
                throw new IOException(writeError);
            }
            return d.write(src, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            return checkedWrite(src, position);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = checkedWrite(src, d.position());
            d.position(d.position() + n);
            return n;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            CountDownLatch gate = forceGate;
            if (gate != null) {
                forceGate = null;
                forceWaiting.countDown();
                try {
                    gate.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                throw new IOException("Input/output error (fsync)");
            }
            if (diskGone || forces.incrementAndGet() == failForceNumber) {
                throw new IOException("Input/output error (fsync)");
            }
            d.force(metaData);
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            if (diskGone || failTruncates) {
                throw new IOException("Input/output error (truncate)");
            }
            d.truncate(size);
            return this;
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return d.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return d.read(dsts, offset, length);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw new UnsupportedOperationException("gathering writes are not used by the spill log");
        }

        @Override
        public long position() throws IOException {
            return d.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            d.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return d.size();
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return d.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException("not used by the spill log");
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return d.read(dst, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return d.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return d.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return d.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            d.close();
        }
    }
}
