package dev.spillway.chaos.cli;

import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.chaos.topology.Node;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code up}: 3 Redis, 3 Sentinels, 3 relays and HAProxy on the ports of DESIGN.md. */
@Command(name = "up", mixinStandardHelpOptions = true, description = "Start the local cluster.")
public final class UpCommand implements Callable<Integer> {

    @Mixin
    BaseOption base;

    @Option(names = "--spill-disk", paramLabel = "SIZE", description = "Put each relay's spill directory on its own "
            + "tmpfs of SIZE (e.g. 16m; needs root), with 1 MiB spill segments, for 'chaos spill-disk-full'. "
            + "A tmpfs: 'down' unmounts it, and whatever the spill held then is gone.")
    String spillDisk;

    @Override
    public Integer call() throws Exception {
        Path dir = base.resolve();
        Optional<LocalCluster> running = LocalCluster.attach(dir);
        if (running.isPresent() && running.get().anyAlive()) {
            System.out.println("The local cluster is already up (" + dir + "); './spillway status' shows it, "
                    + "'./spillway down' stops it.");
            return 0;
        }
        LocalCluster.Layout layout = LocalCluster.Layout.local();
        if (spillDisk != null) {
            layout = layout.withSpillDisk(Units.bytes(spillDisk));
        }
        LocalCluster cluster = LocalCluster.start(dir, layout);
        var s = cluster.state();
        System.out.println("Spillway local cluster is up (" + dir + ")");
        System.out.println("  Redis protocol  127.0.0.1:" + s.respPort() + "   redis-cli -p " + s.respPort()
                + " RPUSH data_queue hello");
        System.out.println("  line protocol   127.0.0.1:" + s.linePort() + "   printf 'hello\\n' | nc -q1 127.0.0.1 "
                + s.linePort());
        System.out.println("  HTTP            http://127.0.0.1:" + s.httpPort() + "/v1/lists/{key}");
        System.out.println("  HAProxy stats   http://127.0.0.1:" + s.statsPort() + "/");
        System.out.println("  Sentinels       " + String.join(", ", cluster.group().sentinelAddresses())
                + " (master name mymaster; master now " + cluster.group().currentMaster().map(Node::address)
                .orElse("?") + ")");
        for (Node r : cluster.relays()) {
            System.out.println("  " + r.name() + "         RESP 127.0.0.1:" + r.port() + ", admin http://127.0.0.1:"
                    + r.probePort() + "/health");
        }
        System.out.println("  Dashboard       http://127.0.0.1:" + cluster.relays().get(0).probePort() + "/dashboard");
        if (spillDisk != null) {
            System.out.println("  Spill disks     a " + spillDisk + " tmpfs per relay at relay-i/spill-disk "
                    + "(./spillway chaos spill-disk-full fills them)");
        }
        return 0;
    }
}
