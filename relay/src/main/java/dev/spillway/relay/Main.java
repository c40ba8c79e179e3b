package dev.spillway.relay;

import dev.spillway.relay.cli.CheckConfigCommand;
import dev.spillway.relay.cli.ServeCommand;
import dev.spillway.relay.cli.SpillBenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The relay's command line: {@code java -jar relay.jar <command>}. */
@Command(name = "relay", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Spillway: a Sentinel-aware high-availability relay for Redis.",
        subcommands = {ServeCommand.class, CheckConfigCommand.class, SpillBenchCommand.class})
public final class Main implements Runnable {

    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"spillway relay " + dev.spillway.relay.Version.get()};
        }
    }
}
