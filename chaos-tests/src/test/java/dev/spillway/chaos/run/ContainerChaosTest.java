package dev.spillway.chaos.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.chaos.topology.Checkout;
import dev.spillway.chaos.topology.LocalCluster;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos suite on the Testcontainers backend: each node in a container (host networking) —
 * Redis, Sentinel and HAProxy in images of this machine's binaries, the relays in the project's
 * own image ({@code deploy/docker/Dockerfile}, built from this checkout's jar, running as its
 * unprivileged user on a bind-mounted spill directory) — with faults through Docker:
 * {@code docker kill} (SIGKILL), {@code docker pause} (a frozen master past
 * down-after-milliseconds), SHUTDOWN NOSAVE, and a relay killed and restarted on its spill.
 */
class ContainerChaosTest {

    @TempDir
    Path tmp;

    @Test
    void masterFaultsAndARelayKillInContainersLoseNothing() throws Exception {
        Process build = new ProcessBuilder(Checkout.root().resolve("chaos-tests/docker/build-images.sh").toString())
                .inheritIO().start();
        assertThat(build.waitFor(300, TimeUnit.SECONDS) && build.exitValue() == 0).as("images built").isTrue();

        List<List<Fault>> sequence = List.of(List.of(Fault.KILL_MASTER), List.of(Fault.PAUSE_MASTER),
                List.of(Fault.SHUTDOWN_MASTER), List.of(Fault.KILL_RELAY), List.of(Fault.KILL_MASTER));
        ChaosRun.Options options = new ChaosRun.Options(sequence, Duration.ofMinutes(5), sequence.size(), 1, 100, 3,
                "data_queue", "containers:", true);
        try (ProcessTopology t = new ProcessTopology(LocalCluster.start(tmp.resolve("cluster"),
                LocalCluster.Layout.forTests(2, Map.of()).inContainers()), true)) {
            assertThat(t.cluster().allNodes()).allMatch(n -> n.inContainer());
            ChaosReport report = new ChaosRun(options).run(t, line -> System.out.println("containers: " + line));
            System.out.println(report.toText());
            assertThat(report.failoversSeen()).isGreaterThanOrEqualTo(4);
            assertThat(report.check().ok()).as(report.check().toString()).isTrue();
            assertThat(report.firstErrors()).as("producer-visible errors").isEmpty();
        }
    }
}
