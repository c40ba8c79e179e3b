package dev.spillway.relay;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.sink.SinkConfig;
import dev.spillway.relay.spill.SpillLogConfig;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** What a relay says at start about the ack policy it was given. */
class RelayStartTest {

    @TempDir
    Path dir;

    private List<String> warningsAtStart(int minReplicas) throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        Logger log = (Logger) LoggerFactory.getLogger(Relay.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        log.addAppender(appender);
        try (Relay relay = Relay.start(SinkConfig.builder().sentinels(List.of("127.0.0.1:" + deadPort))
                .minReplicas(minReplicas).build(), SpillLogConfig.builder(dir.resolve("spill" + minReplicas)).build(),
                new MetricRegistry())) {
            return appender.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                    .map(ILoggingEvent::getFormattedMessage).toList();
        } finally {
            log.detachAppender(appender);
        }
    }

    @Test
    void minReplicasZeroWarnsWhatItGivesUp() throws Exception {
        assertThat(warningsAtStart(0)).anySatisfy(w -> assertThat(w).contains("sink.ack.minReplicas: 0")
                .contains("loses acknowledged messages"));
    }

    @Test
    void theDefaultWaitsForEveryReplicaAndDoesNotWarn() throws Exception {
        assertThat(SinkConfig.builder().build().minReplicasText()).isEqualTo("all");
        assertThat(warningsAtStart(SinkConfig.ALL_REPLICAS)).noneSatisfy(w -> assertThat(w).contains("minReplicas"));
    }
}
