package dev.spillway.chaos.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.chaos.topology.Checkout;
import dev.spillway.chaos.topology.RelayImage;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The compose deployment ({@code deploy/compose/docker-compose.yml}) as an operator runs it:
 * the relay image built from this checkout's jar, {@code docker-compose up -d} with Debian's
 * docker-compose on free ports, every relay healthy by the image's HEALTHCHECK; then producers
 * push through HAProxy — pipelining RESP connections over several lists (RPUSH and LPUSH) and
 * line and HTTP producers — while the master is killed with {@code docker kill} and Sentinel
 * fails over; every acknowledged message must be in Redis once, in order. The project is taken
 * down with {@code docker-compose down -v} whatever happens.
 */
class ComposeFailoverTest {

    @Test
    void dockerKillOfTheMasterInTheComposeTopologyLosesNothingAcknowledged() throws Exception {
        Process build = new ProcessBuilder(Checkout.root().resolve("chaos-tests/docker/build-images.sh").toString())
                .inheritIO().start();
        assertThat(build.waitFor(300, TimeUnit.SECONDS) && build.exitValue() == 0).as("images built").isTrue();
        String image = RelayImage.build();

        String project = "spillway-composetest-" + UUID.randomUUID().toString().substring(0, 8);
        List<List<Fault>> faults = List.of(List.of(Fault.KILL_MASTER));
        ChaosRun.Options options = new ChaosRun.Options(faults, Duration.ofMinutes(2), 1, 1, 100, 14, "data_queue",
                "compose:", true).pipelined(3, 16, 600).steady(Duration.ofSeconds(2));
        try (ComposeTopology t = ComposeTopology.up(project, image, Duration.ofSeconds(60),
                line -> System.out.println("compose: " + line))) {
            String before = t.currentMaster();
            ChaosReport report = new ChaosRun(options).run(t, line -> System.out.println("compose: " + line));
            System.out.println(report.toText());
            assertThat(report.faults()).hasSize(1);
            assertThat(report.faults().get(0).what()).startsWith("SIGKILL " + before);
            assertThat(t.currentMaster()).as("the master after the failover").isNotEqualTo(before);
            assertThat(report.failoversSeen()).isGreaterThanOrEqualTo(1);
            assertThat(report.check().ok()).as(report.check().toString()).isTrue();
            assertThat(report.firstErrors()).as("producer-visible errors").isEmpty();
        }
    }
}
