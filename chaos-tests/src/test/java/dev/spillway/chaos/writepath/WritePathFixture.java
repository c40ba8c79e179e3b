package dev.spillway.chaos.writepath;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.MetricRegistry;
import dev.spillway.chaos.check.ListCheck;
import dev.spillway.chaos.topology.Node;
import dev.spillway.chaos.topology.SentinelGroup;
import dev.spillway.relay.Relay;
import dev.spillway.relay.route.Router;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.spill.SpillLogConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.redisson.Redisson;
import org.redisson.api.RList;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.ByteArrayCodec;
import org.redisson.config.Config;

/** Shared set-up of the write-path integration tests: a real Sentinel group and relays on it. */
final class WritePathFixture {

    private WritePathFixture() {}

    static SinkConfig sinkConfig(SentinelGroup group) {
        return SinkConfig.builder()
                .sentinels(group.sentinelAddresses())
                .timeout(Duration.ofMillis(500))
                .waitTimeout(Duration.ofMillis(300))
                .connectTimeout(Duration.ofMillis(500))
                .build();
    }

    static Relay startRelay(SentinelGroup group, Path spillDir) throws Exception {
        Relay relay = Relay.start(sinkConfig(group), SpillLogConfig.builder(spillDir).build(), new MetricRegistry());
        long deadline = System.currentTimeMillis() + 20_000;
        while (!(relay.redisConnected() && relay.sink().permitsCalls()) && System.currentTimeMillis() < deadline) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        assertThat(relay.redisConnected()).as("relay connected to the Sentinel group").isTrue();
        assertThat(relay.sink().permitsCalls()).as("write gate open: " + relay.sink().blockedReason()).isTrue();
        return relay;
    }

    /** Waits (bounded) until the relay writes directly again with nothing left in its spill. */
    static void awaitDrained(Relay relay, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline
                && (relay.router().mode() != Router.Mode.DIRECT || relay.spill().pendingMessages() > 0
                        || relay.router().inFlight() > 0)) {
            TimeUnit.MILLISECONDS.sleep(20);
        }
        assertThat(relay.spill().pendingMessages()).as("spill drained").isZero();
        assertThat(relay.router().mode()).isEqualTo(Router.Mode.DIRECT);
    }

    /** The whole list, read from the master the Sentinels name now. */
    static List<byte[]> readList(SentinelGroup group, String key) throws Exception {
        Node master = group.awaitHealthy(Duration.ofSeconds(30));
        Config c = new Config();
        c.setCodec(ByteArrayCodec.INSTANCE);
        c.useSingleServer().setAddress("redis://" + master.address());
        RedissonClient client = Redisson.create(c);
        try {
            RList<byte[]> list = client.getList(key);
            List<byte[]> all = new ArrayList<>();
            for (int from = 0; ; from += 20_000) {
                List<byte[]> page = list.range(from, from + 19_999);
                all.addAll(page);
                if (page.size() < 20_000) {
                    return all;
                }
            }
        } finally {
            client.shutdown();
        }
    }

    static ListCheck check(SentinelGroup group, String key, RouterLoad load) throws Exception {
        return ListCheck.of(readList(group, key), load.acked, load.sent, false);
    }
}
