package dev.spillway.chaos.cli;

import dev.spillway.chaos.topology.LocalCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code down}: stops exactly what {@code up} started (by pid); data stays unless {@code --clean}. */
@Command(name = "down", mixinStandardHelpOptions = true, description = "Stop the local cluster.")
public final class DownCommand implements Callable<Integer> {

    @Mixin
    BaseOption base;

    @Option(names = "--clean", description = "Also delete the cluster directory (data, logs, spill logs).")
    boolean clean;

    @Override
    public Integer call() throws Exception {
        Path dir = base.resolve();
        Optional<LocalCluster> cluster = LocalCluster.attach(dir);
        if (cluster.isEmpty()) {
            System.out.println("No local cluster is recorded in " + dir + "; nothing to stop.");
        } else {
            cluster.get().close();
            System.out.println("Stopped the local cluster (" + dir + ")" + (clean ? "" : "; data kept for inspection"));
        }
        if (clean && Files.exists(dir)) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
            System.out.println("Deleted " + dir);
        }
        return 0;
    }
}
