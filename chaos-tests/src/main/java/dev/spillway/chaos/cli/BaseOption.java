package dev.spillway.chaos.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --base DIR}: where the local cluster keeps its processes' directories and state. */
public final class BaseOption {

    @Option(names = "--base", defaultValue = ".spillway/cluster",
            description = "Cluster directory (default: ${DEFAULT-VALUE}, relative to the checkout).")
    Path base;

    Path resolve() throws java.io.IOException {
        return base.isAbsolute() ? base : dev.spillway.chaos.topology.Checkout.root().resolve(base);
    }
}
