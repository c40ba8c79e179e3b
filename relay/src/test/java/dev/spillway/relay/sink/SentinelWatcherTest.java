package dev.spillway.relay.sink;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which Sentinel events and flags close the write gate (payloads as Redis 7's sentinel.c formats them). */
class SentinelWatcherTest {

    private static boolean trouble(String channel, String payload) {
        return SentinelWatcher.isTrouble(channel, payload, "mymaster");
    }

    @Test
    void everyStepOfAFailoverClosesTheGate() {
        assertThat(trouble("+sdown", "master mymaster 127.0.0.1 7001")).isTrue();
        assertThat(trouble("+odown", "master mymaster 127.0.0.1 7001 #quorum 2/2")).isTrue();
        assertThat(trouble("+new-epoch", "7")).isTrue();
        assertThat(trouble("+vote-for-leader", "2b3c45d6e7f8091a2b3c45d6e7f8091a2b3c45d6 7")).isTrue();
        assertThat(trouble("+try-failover", "master mymaster 127.0.0.1 7001")).isTrue();
        assertThat(trouble("+elected-leader", "master mymaster 127.0.0.1 7001")).isTrue();
        assertThat(trouble("+failover-state-select-slave", "master mymaster 127.0.0.1 7001")).isTrue();
        assertThat(trouble("+selected-slave", "slave 127.0.0.1:7002 127.0.0.1 7002 @ mymaster 127.0.0.1 7001"))
                .isTrue();
        assertThat(trouble("+failover-state-send-slaveof-noone",
                "slave 127.0.0.1:7002 127.0.0.1 7002 @ mymaster 127.0.0.1 7001")).isTrue();
        assertThat(trouble("+promoted-slave", "slave 127.0.0.1:7002 127.0.0.1 7002 @ mymaster 127.0.0.1 7001"))
                .isTrue();
        assertThat(trouble("+slave-reconf-sent", "slave 127.0.0.1:7003 127.0.0.1 7003 @ mymaster 127.0.0.1 7001"))
                .isTrue();
        assertThat(trouble("+switch-master", "mymaster 127.0.0.1 7001 127.0.0.1 7002")).isTrue();
        assertThat(trouble("-failover-abort-not-elected", "master mymaster 127.0.0.1 7001")).isTrue();
        assertThat(trouble("+failover-end", "master mymaster 127.0.0.1 7001")).isTrue();
        assertThat(trouble("+tilt", "#tilt mode entered")).isTrue();
    }

    @Test
    void replicasAndSentinelsComingAndGoingDoNot() {
        assertThat(trouble("+sdown", "slave 127.0.0.1:7003 127.0.0.1 7003 @ mymaster 127.0.0.1 7001")).isFalse();
        assertThat(trouble("-sdown", "slave 127.0.0.1:7003 127.0.0.1 7003 @ mymaster 127.0.0.1 7001")).isFalse();
        assertThat(trouble("+sdown", "sentinel 1f2e 127.0.0.1 26380 @ mymaster 127.0.0.1 7001")).isFalse();
        assertThat(trouble("+slave", "slave 127.0.0.1:7003 127.0.0.1 7003 @ mymaster 127.0.0.1 7001")).isFalse();
        assertThat(trouble("+sentinel", "sentinel 1f2e 127.0.0.1 26380 @ mymaster 127.0.0.1 7001")).isFalse();
        assertThat(trouble("+convert-to-slave", "slave 127.0.0.1:7001 127.0.0.1 7001 @ mymaster 127.0.0.1 7002"))
                .isFalse();
        assertThat(trouble("__sentinel__:hello", "127.0.0.1,26380,1f2e,7,mymaster,127.0.0.1,7001,7")).isFalse();
        assertThat(trouble("+sdown", "master othermaster 127.0.0.1 8001")).as("another group").isFalse();
    }

    @Test
    void aFailoverInAViewBlocksWritesButOneSentinelsSdownAloneDoesNot() {
        assertThat(SentinelWatcher.blocksWrites("master")).isFalse();
        assertThat(SentinelWatcher.blocksWrites("s_down,master")).isFalse();
        assertThat(SentinelWatcher.blocksWrites("s_down,master,disconnected")).isFalse();
        assertThat(SentinelWatcher.blocksWrites("s_down,o_down,master")).isTrue();
        assertThat(SentinelWatcher.blocksWrites("master,failover_in_progress")).isTrue();
        assertThat(SentinelWatcher.blocksWrites("master,master_down")).isTrue();
        assertThat(SentinelWatcher.blocksWrites("master,force_failover,failover_in_progress")).isTrue();
    }
}
