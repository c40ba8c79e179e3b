package dev.spillway.chaos.writepath;

import static dev.spillway.chaos.writepath.WritePathFixture.awaitDrained;
import static dev.spillway.chaos.writepath.WritePathFixture.check;
import static dev.spillway.chaos.writepath.WritePathFixture.startRelay;
import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.chaos.check.ListCheck;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.Relay;
import dev.spillway.relay.route.Router;
import dev.spillway.relay.sink.RedisSink;
import dev.spillway.relay.spill.SpillLog;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write path against a real Sentinel group (1 master, 2 replicas, 3 Sentinels) under
 * concurrent producers, every message checked: lost, duplicated, reordered, unexpected.
 */
class WritePathIntegrationTest {

    private static final String KEY = "data_queue";
    private static final int PRODUCERS = 6;
    /** Per producer: 6 x 2,000 = 12,000 messages/s in all, a steady load that leaves the 2 cores room for Redis. */
    private static final int RATE = 2_000;

    @TempDir
    Path tmp;

    private SentinelGroup group;
    private Relay relay;

    @BeforeEach
    void startGroup() throws Exception {
        group = SentinelGroup.start(tmp.resolve("cluster"), SentinelGroup.Options.forTests());
    }

    @AfterEach
    void stopAll() throws Exception {
        if (relay != null) {
            relay.close();
        }
        group.close();
    }

    @Test
    void steadyWritesLandInOrderExactlyOnce() throws Exception {
        relay = startRelay(group, tmp.resolve("spill"));
        RouterLoad load = new RouterLoad(relay.router(), KEY, PRODUCERS, 32, 3_000, 0).start();
        load.join();
        awaitDrained(relay, Duration.ofSeconds(10));

        ListCheck verdict = check(group, KEY, load);
        assertThat(load.errors).isEmpty();
        assertThat(verdict.ok()).as(verdict.toString()).isTrue();
        assertThat(verdict.acked()).isEqualTo(PRODUCERS * 3_000);
        assertThat(verdict.present()).isEqualTo(PRODUCERS * 3_000);
        assertThat(meter(relay.metrics(), Router.class, "spilled")).as("nothing needed the spill").isZero();
    }

    @Test
    void sigkillOfTheMasterUnderLoadLosesAndDuplicatesNothing() throws Exception {
        relay = startRelay(group, tmp.resolve("spill"));
        RouterLoad load = new RouterLoad(relay.router(), KEY, PRODUCERS, 32, 1_000_000, RATE).start();
        load.awaitAcks(5_000, 20_000);
        Node master = group.currentMaster().orElseThrow();
        long killedAt = System.nanoTime();
        master.kill();
        Node newMaster = group.awaitFailoverFrom(master, Duration.ofSeconds(30));
        long failoverMs = (System.nanoTime() - killedAt) / 1_000_000;
        load.awaitAcks(5_000, 30_000);
        load.stopAndJoin();
        awaitDrained(relay, Duration.ofSeconds(30));

        ListCheck verdict = check(group, KEY, load);
        System.out.printf("SIGKILL %s: Sentinel promoted %s after %d ms; spilled %d, replayed %d, deduped %d; %s%n",
                master, newMaster, failoverMs, meter(relay.metrics(), Router.class, "spilled"),
                meter(relay.metrics(), Router.class, "replayed"),
                meter(relay.metrics(), Router.class, "replay-deduped"), verdict);
        assertThat(load.errors).as("producer-visible errors").isEmpty();
        assertThat(verdict.ok()).as(verdict.toString()).isTrue();
        assertThat(meter(relay.metrics(), Router.class, "spilled")).as("the failover went through the spill")
                .isPositive();
        assertThat(relay.sentinels().failovers()).as("the relay saw +switch-master").isGreaterThanOrEqualTo(1);
        assertThat(relay.sentinels().master()).as("the relay follows the master Sentinel names now")
                .isEqualTo(group.currentMaster().orElseThrow().address());
    }

    @Test
    void frozenMasterResumedAfterFailoverLosesAndDuplicatesNothing() throws Exception {
        relay = startRelay(group, tmp.resolve("spill"));
        RouterLoad load = new RouterLoad(relay.router(), KEY, PRODUCERS, 32, 1_000_000, RATE).start();
        load.awaitAcks(5_000, 20_000);
        Node master = group.currentMaster().orElseThrow();
        master.freeze();
        Node newMaster = group.awaitFailoverFrom(master, Duration.ofSeconds(30));
        load.awaitAcks(3_000, 30_000);
        master.resume(); // the two-master window: the old master still thinks it leads
        load.awaitAcks(5_000, 30_000);
        load.stopAndJoin();
        awaitDrained(relay, Duration.ofSeconds(30));
        group.awaitHealthy(Duration.ofSeconds(30));

        ListCheck verdict = check(group, KEY, load);
        System.out.printf("SIGSTOP %s, promoted %s, SIGCONT: spilled %d, replayed %d, deduped %d; %s%n", master,
                newMaster, meter(relay.metrics(), Router.class, "spilled"),
                meter(relay.metrics(), Router.class, "replayed"),
                meter(relay.metrics(), Router.class, "replay-deduped"), verdict);
        assertThat(load.errors).as("producer-visible errors").isEmpty();
        assertThat(verdict.ok()).as(verdict.toString()).isTrue();
    }

    @Test
    void allOfRedisDownSpillsEverythingThenDrains() throws Exception {
        relay = startRelay(group, tmp.resolve("spill"));
        RouterLoad load = new RouterLoad(relay.router(), KEY, PRODUCERS, 32, 1_000_000, RATE).start();
        load.awaitAcks(3_000, 20_000);
        for (Node n : group.redisNodes()) {
            n.shutdown();
        }
        long spilledBefore = meter(relay.metrics(), Router.class, "spilled");
        load.awaitAcks(5_000, 30_000); // acknowledged while no Redis runs at all
        assertThat(relay.router().mode()).isEqualTo(Router.Mode.SPILL);
        assertThat(relay.spill().pendingMessages()).isPositive();
        for (Node n : group.redisNodes()) {
            n.start();
        }
        group.awaitHealthy(Duration.ofSeconds(30));
        load.awaitAcks(3_000, 30_000);
        load.stopAndJoin();
        awaitDrained(relay, Duration.ofSeconds(60));

        ListCheck verdict = check(group, KEY, load);
        System.out.printf("All Redis down: spilled %d while down; replayed %d, deduped %d; %s%n",
                meter(relay.metrics(), Router.class, "spilled") - spilledBefore,
                meter(relay.metrics(), Router.class, "replayed"),
                meter(relay.metrics(), Router.class, "replay-deduped"), verdict);
        assertThat(load.errors).as("producer-visible errors").isEmpty();
        assertThat(verdict.ok()).as(verdict.toString()).isTrue();
    }

    static long meter(MetricRegistry metrics, Class<?> owner, String name) {
        return metrics.meter(MetricRegistry.name(owner, name)).getCount();
    }

    @SuppressWarnings("unused")
    private static final Class<?>[] DOCUMENTED = {RedisSink.class, SpillLog.class};
}
