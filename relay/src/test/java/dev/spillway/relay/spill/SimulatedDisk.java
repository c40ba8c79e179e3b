package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * An in-memory disk holding one directory, that keeps apart what is durable and what is not,
 * and can lose power: the model is RocksDB's {@code FaultInjectionTestFS} ("drop unsynced
 * data"), with POSIX's rules.
 * <ul>
 *   <li>A file's data survives a power cut only up to its last {@code force}. Of what was
 *       written after it, a power cut keeps either any prefix of the writes and truncates, in
 *       order, tearing the first write it does not keep whole (a prefix of its bytes reaches the
 *       disk, or garbage does); or — the page cache written back out of order — any subset of
 *       the changed 4 KiB pages, with the file at its old or its new size (pages of a grown file
 *       that did not reach the disk read as zeros).
 *   <li>A failed {@code force} is Linux's: what it was to sync may or may not have reached the
 *       disk (a prefix, as above), and it is no longer pending — the kernel marked the pages
 *       clean — so a later {@code force} that succeeds does not make it durable ("fsyncgate").
 *       Reads still see it (the page cache keeps it).
 *   <li>Creates, renames and deletes survive only up to the last {@link #syncDirectory}; of the
 *       ones after it, any prefix, in order.
 *   <li>The disk has a capacity; a write that does not fit writes what fits and fails with
 *       {@code No space left on device}.
 * </ul>
 * Every mutating operation is numbered; at operation {@link #crashAt} the power goes: that
 * operation and every one after it fail, and {@link #crashImage} is what the disk holds. Single
 * failures can be injected too ({@link #failNext}). Thread-safe (one lock).
 */
final class SimulatedDisk implements SpillStorage {

    static final String POWER_CUT = "simulated power cut";

    enum Failure { WRITE_ENOSPC, WRITE_EIO, FSYNC_EIO, DIRECTORY_SYNC_EIO, RENAME_EIO, TRUNCATE_EIO }

    /** A file's contents, apart from its names. */
    private static final class Inode {
        byte[] durable;
        byte[] current;
        /** Writes ({@code data != null}) and truncates made since the last force. */
        final List<long[]> unsyncedMeta = new ArrayList<>();
        final List<byte[]> unsyncedData = new ArrayList<>();

        Inode(byte[] durable) {
            this.durable = durable.clone();
            this.current = durable.clone();
        }
    }

    /** A create/rename/delete since the last directory sync: {@code name} now points at {@code inode} (null: deleted). */
    private record DirOp(String name, Inode inode) {}

    private final Path dir;
    private final Random random;
    private final long capacity;
    private Map<String, Inode> names = new HashMap<>();
    private Map<String, Inode> durableNames = new HashMap<>();
    private final List<DirOp> unsyncedDir = new ArrayList<>();
    private final Set<Inode> locked = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    private long ops;
    private long crashAt = Long.MAX_VALUE;
    private boolean crashed;
    private Map<String, byte[]> image;
    private final java.util.EnumSet<Failure> nextFailures = java.util.EnumSet.noneOf(Failure.class);

    SimulatedDisk(Path dir, Random random, long capacity) {
        this.dir = dir;
        this.random = random;
        this.capacity = capacity;
    }

    /** A disk holding {@code files} (all durable). */
    SimulatedDisk(Path dir, Random random, long capacity, Map<String, byte[]> files) {
        this(dir, random, capacity);
        files.forEach((n, b) -> {
            Inode i = new Inode(b);
            names.put(n, i);
            durableNames.put(n, i);
        });
    }

    synchronized void crashAt(long op) {
        this.crashAt = op;
    }

    synchronized long operations() {
        return ops;
    }

    synchronized boolean crashed() {
        return crashed;
    }

    /** The next operation of each kind given fails once (the power stays on). */
    synchronized void failNext(Failure... failures) {
        nextFailures.addAll(Arrays.asList(failures));
    }

    /** Cuts the power now, if it has not gone yet. */
    synchronized void crash() {
        if (!crashed) {
            crashed = true;
            image = buildImage();
        }
    }

    /** What the disk holds after the power cut: name → bytes. */
    synchronized Map<String, byte[]> crashImage() {
        crash();
        return image;
    }

    // ---- the operations ----

    /** Counts a mutating operation; the power goes at {@link #crashAt}. */
    private void tick() throws IOException {
        if (crashed) {
            throw new IOException(POWER_CUT);
        }
        if (++ops >= crashAt) {
            crash();
            throw new IOException(POWER_CUT);
        }
    }

    private boolean failing(Failure f) {
        return nextFailures.remove(f);
    }

    private String name(Path p) throws IOException {
        Path parent = p.toAbsolutePath().getParent();
        if (parent == null || !parent.equals(dir.toAbsolutePath())) {
            throw new IOException("simulated disk holds only " + dir + ", not " + p);
        }
        return p.getFileName().toString();
    }

    @Override
    public synchronized FileChannel open(Path path, OpenOption... options) throws IOException {
        if (crashed) {
            throw new IOException(POWER_CUT);
        }
        List<OpenOption> opts = Arrays.asList(options);
        String n = name(path);
        Inode inode = names.get(n);
        if (inode == null) {
            if (!opts.contains(StandardOpenOption.CREATE) && !opts.contains(StandardOpenOption.CREATE_NEW)) {
                throw new NoSuchFileException(path.toString());
            }
            tick();
            inode = new Inode(new byte[0]);
            names.put(n, inode);
            unsyncedDir.add(new DirOp(n, inode));
        } else if (opts.contains(StandardOpenOption.CREATE_NEW)) {
            throw new FileAlreadyExistsException(path.toString());
        }
        Channel ch = new Channel(inode, opts.contains(StandardOpenOption.WRITE));
        if (opts.contains(StandardOpenOption.TRUNCATE_EXISTING) && opts.contains(StandardOpenOption.WRITE)) {
            ch.truncate(0);
        }
        return ch;
    }

    @Override
    public synchronized void rename(Path from, Path to) throws IOException {
        String f = name(from);
        String t = name(to);
        tick();
        if (failing(Failure.RENAME_EIO)) {
            throw new IOException("Input/output error (simulated rename)");
        }
        Inode inode = names.get(f);
        if (inode == null) {
            throw new NoSuchFileException(from.toString());
        }
        names.remove(f);
        names.put(t, inode);
        unsyncedDir.add(new DirOp(t, inode));
        unsyncedDir.add(new DirOp(f, null));
    }

    @Override
    public synchronized boolean delete(Path path) throws IOException {
        String n = name(path);
        if (crashed) {
            throw new IOException(POWER_CUT);
        }
        if (!names.containsKey(n)) {
            return false;
        }
        tick();
        names.remove(n);
        unsyncedDir.add(new DirOp(n, null));
        return true;
    }

    @Override
    public synchronized boolean exists(Path path) {
        try {
            return !crashed && names.containsKey(name(path));
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public synchronized List<Path> list(Path d) throws IOException {
        if (crashed) {
            throw new IOException(POWER_CUT);
        }
        List<Path> out = new ArrayList<>();
        for (String n : names.keySet()) {
            out.add(dir.resolve(n));
        }
        return out;
    }

    @Override
    public synchronized void syncDirectory(Path d) throws IOException {
        tick();
        if (failing(Failure.DIRECTORY_SYNC_EIO)) {
            throw new IOException("Input/output error (simulated directory fsync)");
        }
        durableNames = new HashMap<>(names);
        unsyncedDir.clear();
    }

    @Override
    public void createDirectories(Path d) {
        // one directory, always there
    }

    @Override
    public synchronized long usableSpace(Path d) throws IOException {
        if (crashed) {
            throw new IOException(POWER_CUT);
        }
        return Math.max(0, capacity - used());
    }

    private long used() {
        long sum = 0;
        Set<Inode> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        seen.addAll(names.values());
        for (Inode i : seen) {
            sum += i.current.length;
        }
        return sum;
    }

    // ---- the power cut ----

    private Map<String, byte[]> buildImage() {
        Map<String, Inode> dirAfter = new HashMap<>(durableNames);
        int keep = random.nextInt(unsyncedDir.size() + 1);
        for (DirOp op : unsyncedDir.subList(0, keep)) {
            if (op.inode() == null) {
                dirAfter.remove(op.name());
            } else {
                dirAfter.put(op.name(), op.inode());
            }
        }
        Map<Inode, byte[]> contents = new java.util.IdentityHashMap<>();
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Inode> e : dirAfter.entrySet()) {
            byte[] bytes = contents.computeIfAbsent(e.getValue(), this::afterPowerCut);
            out.put(e.getKey(), bytes);
        }
        return out;
    }

    /** {@code b} after one write ({@code data}) at {@code pos}, or a truncate to {@code pos} ({@code data == null}). */
    private static byte[] applied(byte[] b, long pos, byte[] data) {
        if (data == null) {
            return pos < b.length ? Arrays.copyOf(b, (int) pos) : b;
        }
        byte[] out = b.length < pos + data.length ? Arrays.copyOf(b, (int) (pos + data.length)) : b.clone();
        System.arraycopy(data, 0, out, (int) pos, data.length);
        return out;
    }

    /** What of a file a power cut leaves: one of the two models of the class comment, at random. */
    private byte[] afterPowerCut(Inode inode) {
        return random.nextBoolean() ? unsyncedPrefix(inode) : unsyncedPages(inode);
    }

    /**
     * The page cache written back out of order: of the 4 KiB pages that differ from what is
     * durable, any subset reaches the disk (each page whole); the file's size is the old one or
     * the new one, and where it grew, pages that did not reach the disk read as zeros.
     */
    private byte[] unsyncedPages(Inode inode) {
        byte[] durable = inode.durable;
        byte[] current = inode.current;
        int size = random.nextBoolean() ? durable.length : current.length;
        byte[] b = new byte[size];
        System.arraycopy(durable, 0, b, 0, Math.min(size, durable.length));
        for (int page = 0; page < size; page += 4096) {
            int end = Math.min(size, page + 4096);
            if (random.nextBoolean() && page < current.length) {
                int n = Math.min(end, current.length) - page;
                System.arraycopy(current, page, b, page, n);
            }
        }
        return b;
    }

    /** Durable bytes, then a prefix of the later operations, the next one possibly torn. */
    private byte[] unsyncedPrefix(Inode inode) {
        byte[] b = inode.durable.clone();
        int n = inode.unsyncedMeta.size();
        int keep = random.nextInt(n + 1);
        for (int k = 0; k < n && k <= keep; k++) {
            long[] meta = inode.unsyncedMeta.get(k);
            byte[] data = inode.unsyncedData.get(k);
            if (data == null) { // truncate
                if (k < keep) {
                    b = Arrays.copyOf(b, (int) meta[0]);
                }
                continue;
            }
            int len = data.length;
            if (k == keep) { // the first one not kept whole: torn, or not there at all
                int r = random.nextInt(3);
                if (r == 0 || len == 0) {
                    break;
                }
                len = random.nextInt(len);
                data = data.clone();
                if (r == 2) { // what reached the disk is not what was written
                    for (int i = 0; i < len; i++) {
                        data[i] = (byte) random.nextInt(256);
                    }
                }
            }
            int pos = (int) meta[0];
            if (b.length < pos + len) {
                b = Arrays.copyOf(b, pos + len);
            }
            System.arraycopy(data, 0, b, pos, len);
        }
        return b;
    }

    // ---- channels ----

    private final class Channel extends FileChannel {
        private final Inode inode;
        private final boolean writable;
        private long position;

        Channel(Inode inode, boolean writable) {
            this.inode = inode;
            this.writable = writable;
        }

        private void open() throws IOException {
            if (!isOpen()) {
                throw new ClosedChannelException();
            }
        }

        @Override
        public int read(ByteBuffer dst, long pos) throws IOException {
            synchronized (SimulatedDisk.this) {
                open();
                if (crashed) {
                    throw new IOException(POWER_CUT);
                }
                byte[] c = inode.current;
                if (pos >= c.length) {
                    return -1;
                }
                int n = (int) Math.min(dst.remaining(), c.length - pos);
                dst.put(c, (int) pos, n);
                return n;
            }
        }

        @Override
        public int write(ByteBuffer src, long pos) throws IOException {
            synchronized (SimulatedDisk.this) {
                open();
                if (!writable) {
                    throw new java.nio.channels.NonWritableChannelException();
                }
                tick();
                int len = src.remaining();
                long growth = Math.max(0, pos + len - inode.current.length);
                boolean noSpace = failing(Failure.WRITE_ENOSPC) || (growth > 0 && used() + growth > capacity);
                boolean eio = failing(Failure.WRITE_EIO);
                if (noSpace || eio) {
                    int fits = noSpace ? (int) Math.max(0, Math.min(len / 2, capacity - used() - Math.max(0,
                            inode.current.length - pos))) : len / 2;
                    fits = Math.max(0, Math.min(fits, len));
                    byte[] part = new byte[fits];
                    src.duplicate().get(part);
                    apply(pos, part);
                    throw new IOException(noSpace ? "No space left on device" : "Input/output error (simulated write)");
                }
                byte[] data = new byte[len];
                src.get(data);
                apply(pos, data);
                return len;
            }
        }

        private void apply(long pos, byte[] data) {
            if (inode.current.length < pos + data.length) {
                inode.current = Arrays.copyOf(inode.current, (int) (pos + data.length));
            }
            System.arraycopy(data, 0, inode.current, (int) pos, data.length);
            inode.unsyncedMeta.add(new long[] {pos});
            inode.unsyncedData.add(data);
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            synchronized (SimulatedDisk.this) {
                open();
                tick();
                if (failing(Failure.TRUNCATE_EIO)) {
                    throw new IOException("Input/output error (simulated truncate)");
                }
                if (size < inode.current.length) {
                    inode.current = Arrays.copyOf(inode.current, (int) size);
                    inode.unsyncedMeta.add(new long[] {size});
                    inode.unsyncedData.add(null);
                }
                position = Math.min(position, size);
                return this;
            }
        }

        @Override
        public void force(boolean metaData) throws IOException {
            synchronized (SimulatedDisk.this) {
                open();
                tick();
                if (failing(Failure.FSYNC_EIO)) {
                    // some of it may have reached the disk; the rest never will unless written again
                    inode.durable = afterPowerCut(inode);
                    inode.unsyncedMeta.clear();
                    inode.unsyncedData.clear();
                    throw new IOException("Input/output error (simulated fsync)");
                }
                byte[] d = inode.durable;
                for (int k = 0; k < inode.unsyncedMeta.size(); k++) {
                    d = applied(d, inode.unsyncedMeta.get(k)[0], inode.unsyncedData.get(k));
                }
                inode.durable = d;
                inode.unsyncedMeta.clear();
                inode.unsyncedData.clear();
            }
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            int n = read(dst, position);
            if (n > 0) {
                position += n;
            }
            return n;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            int n = write(src, position);
            position += n;
            return n;
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long position() {
            return position;
        }

        @Override
        public FileChannel position(long newPosition) {
            position = newPosition;
            return this;
        }

        @Override
        public long size() throws IOException {
            synchronized (SimulatedDisk.this) {
                open();
                if (crashed) {
                    throw new IOException(POWER_CUT);
                }
                return inode.current.length;
            }
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException();
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            FileLock l = tryLock(position, size, shared);
            if (l == null) {
                throw new IOException("locked");
            }
            return l;
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) {
            synchronized (SimulatedDisk.this) {
                if (!locked.add(inode)) {
                    return null;
                }
                return new FileLock(this, position, size, shared) {
                    private boolean valid = true;

                    @Override
                    public boolean isValid() {
                        return valid;
                    }

                    @Override
                    public void release() {
                        synchronized (SimulatedDisk.this) {
                            if (valid) {
                                valid = false;
                                locked.remove(inode);
                            }
                        }
                    }
                };
            }
        }

        @Override
        protected void implCloseChannel() {
            // nothing to release; a lock goes with its release
        }
    }
}
