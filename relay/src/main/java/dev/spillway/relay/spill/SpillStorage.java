package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every file-system operation the spill log makes, so that tests can fail any one of them or
 * simulate what a disk holds after a power cut. Production code uses {@link #DEFAULT}, which
 * goes straight to {@link FileChannel} and {@link Files}.
 *
 * <p>Durability follows POSIX: data written to a file survives a power cut only once the file
 * is {@linkplain FileChannel#force forced}; a create, rename or delete only once the directory
 * holding it is {@linkplain #syncDirectory synced}.
 */
public interface SpillStorage {

    SpillStorage DEFAULT = new SpillStorage() {};

    default FileChannel open(Path path, OpenOption... options) throws IOException {
        return FileChannel.open(path, options);
    }

    /** Renames {@code from} to {@code to} atomically, replacing {@code to}. */
    default void rename(Path from, Path to) throws IOException {
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Deletes {@code path}; true when it existed. */
    default boolean delete(Path path) throws IOException {
        return Files.deleteIfExists(path);
    }

    default boolean exists(Path path) {
        return Files.exists(path);
    }

    /** The names in {@code dir}, as paths under it. */
    default List<Path> list(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return new ArrayList<>(files.toList());
        }
    }

    /** Makes creates, renames and deletes of entries of {@code dir} durable. */
    default void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * Creates {@code dir} and any missing parents, syncing each parent that gained an entry, so
     * that a power cut right after cannot take the new directory away again.
     */
    default void createDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return;
        }
        Path parent = abs.getParent();
        if (parent != null) {
            createDirectories(parent);
        }
        try {
            Files.createDirectory(abs);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(abs)) {
                throw e;
            }
            return;
        }
        if (parent != null) {
            syncDirectory(parent);
        }
    }

    /** Bytes this process may still write on the file system holding {@code dir}. */
    default long usableSpace(Path dir) throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }
}
