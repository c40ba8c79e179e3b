package dev.spillway.chaos.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** Keeps a test cluster's logs after its temporary directory goes. */
final class ClusterLogs {

    private ClusterLogs() {}

    /** Copies every node's log (Sentinel events, Redis role changes, relay output) from {@code cluster} into {@code into}. */
    static void keep(Path cluster, Path into) throws IOException {
        if (!Files.isDirectory(cluster)) {
            return;
        }
        try (Stream<Path> files = Files.walk(cluster, 2)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
                Path to = into.resolve(cluster.relativize(f));
                Files.createDirectories(to.getParent());
                Files.copy(f, to, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
