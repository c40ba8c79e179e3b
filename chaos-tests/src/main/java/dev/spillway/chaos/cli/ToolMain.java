package dev.spillway.chaos.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The operator's tools behind {@code ./spillway}: the local cluster (and, from here, chaos and bench). */
@Command(name = "spillway", mixinStandardHelpOptions = true,
        description = "Run and inspect the local Spillway cluster.",
        subcommands = {UpCommand.class, DownCommand.class, StatusCommand.class, TopCommand.class, ChaosCommand.class, BenchCommand.class})
public final class ToolMain implements Runnable {

    public static void main(String[] args) {
        System.exit(new CommandLine(new ToolMain()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
