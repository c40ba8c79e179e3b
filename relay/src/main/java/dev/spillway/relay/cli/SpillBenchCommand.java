package dev.spillway.relay.cli;

import dev.spillway.relay.bench.SpillBench;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code relay.jar spill-bench}: the spill log alone, measured by {@link SpillBench}. */
@Command(name = "spill-bench", mixinStandardHelpOptions = true,
        description = "Measure fsync'd spill appends/s and replay reads/s.")
public final class SpillBenchCommand implements Callable<Integer> {

    @Option(names = "--dir", description = "Scratch directory (deleted afterwards); default: a temp dir.")
    Path dir;

    @Option(names = "--appenders", split = ",", defaultValue = "1,8,64",
            description = "Concurrent appender counts to run (default: ${DEFAULT-VALUE}).")
    int[] appenders;

    @Option(names = "--seconds", defaultValue = "5", description = "Seconds per run (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--value-bytes", defaultValue = "100", description = "Message size (default: ${DEFAULT-VALUE}).")
    int valueBytes;

    @Option(names = "--backlog", defaultValue = "0",
            description = "Also build a backlog of this many messages, then replay it, watching the heap (default: none).")
    long backlog;

    @Override
    public Integer call() throws Exception {
        SpillBench.run(new SpillBench.Options(dir, appenders, seconds, valueBytes, backlog), System.out);
        return 0;
    }
}
