package dev.spillway.relay.sink;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which Sentinel events and flags close the write gate (payloads as Redis 7's sentinel.c formats them). */
class SentinelWatcherTest {

    private static boolean trouble(String channel, String payload) {
        return SentinelEvents.isTrouble(channel, payload, "mymaster");
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
        assertThat(GateRule.blocksWrites("master")).isFalse();
        assertThat(GateRule.blocksWrites("s_down,master")).isFalse();
        assertThat(GateRule.blocksWrites("s_down,master,disconnected")).isFalse();
        assertThat(GateRule.blocksWrites("s_down,o_down,master")).isTrue();
        assertThat(GateRule.blocksWrites("master,failover_in_progress")).isTrue();
        assertThat(GateRule.blocksWrites("master,master_down")).isTrue();
        assertThat(GateRule.blocksWrites("master,force_failover,failover_in_progress")).isTrue();
    }

    // ---- the gate rule, with the Sentinels played by the test and a manual clock ----

    private final java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(1_000_000_000L);
    private final WriteGate gate = new WriteGate();

    private SentinelWatcher watcher(int sentinels) {
        java.util.List<String> addresses = new java.util.ArrayList<>();
        for (int i = 0; i < sentinels; i++) {
            addresses.add("127.0.0.1:" + (26379 + i));
        }
        return new SentinelWatcher(SinkConfig.builder().sentinels(addresses).build(), gate,
                new com.codahale.metrics.MetricRegistry(), now::get);
    }

    private void tick() {
        now.addAndGet(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(100));
    }

    /** Sentinel i answers a ping and a poll (sent now) naming {@code master}. */
    private void view(SentinelWatcher w, int i, String master, String runId, String flags, int replicas, long epoch) {
        w.recordPong(i);
        w.recordView(i, new SentinelView(now.get(), master, runId, flags, replicas, epoch, 2,
                java.util.concurrent.TimeUnit.SECONDS.toNanos(3)));
    }

    private void allSee(SentinelWatcher w, String master, String runId, long epoch) {
        for (int i = 0; i < 3; i++) {
            view(w, i, master, runId, "master", 2, epoch);
        }
    }

    @Test
    void opensOnTheMasterAMajorityNamesAndClosesAtOnceOnTrouble() {
        SentinelWatcher w = watcher(3);
        assertThat(gate.state().open()).isFalse();
        view(w, 0, "127.0.0.1:7001", "aaa", "master", 2, 1);
        assertThat(gate.state().open()).as("one of three is no majority").isFalse();
        view(w, 1, "127.0.0.1:7001", "aaa", "master", 1, 1);
        assertThat(gate.state().open()).isTrue();
        assertThat(gate.state().runId()).isEqualTo("aaa");
        assertThat(gate.state().replicas()).as("the most healthy replicas any of them lists").isEqualTo(2);
        long epoch = gate.state().epoch();
        tick();
        w.onEvent(w.address(2), "+sdown", "master mymaster 127.0.0.1 7001");
        assertThat(gate.state().open()).isFalse();
        assertThat(gate.state().epoch()).isGreaterThan(epoch);
        // views polled before the event cannot reopen it; fresh ones can
        assertThat(gate.state().open()).isFalse();
        tick();
        allSee(w, "127.0.0.1:7001", "aaa", 1);
        assertThat(gate.state().open()).isTrue();
    }

    @Test
    void aSentinelThatStopsAnsweringLeavesNoMajority() {
        SentinelWatcher w = watcher(3);
        allSee(w, "127.0.0.1:7001", "aaa", 1);
        assertThat(gate.state().open()).isTrue();
        now.addAndGet(java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(600)); // past sentinelTimeout
        view(w, 0, "127.0.0.1:7001", "aaa", "master", 2, 1);
        assertThat(gate.state().open()).isFalse();
        assertThat(gate.state().reason()).contains("only 1 of 3 Sentinels answer");
    }

    @Test
    void afterAVoteTheGateStaysClosedUntilTheNewConfigurationReachesTheMajority() {
        SentinelWatcher w = watcher(3);
        allSee(w, "127.0.0.1:7001", "aaa", 1);
        tick();
        // A and B vote for C, which the relay cannot hear; the old master answers again
        w.onEvent(w.address(0), "+vote-for-leader", "cccccccc 2");
        tick();
        view(w, 0, "127.0.0.1:7001", "aaa", "master", 2, 1);
        view(w, 1, "127.0.0.1:7001", "aaa", "master", 2, 1);
        assertThat(gate.state().open()).as("their clean views of the old configuration").isFalse();
        tick();
        view(w, 0, "127.0.0.1:7002", "bbb", "master", 1, 2);
        view(w, 1, "127.0.0.1:7002", "bbb", "master", 1, 2);
        assertThat(gate.state().open()).isTrue();
        assertThat(gate.state().master()).isEqualTo("127.0.0.1:7002");
    }

    @Test
    void anAbandonedFailoverReopensOnTheOldMasterOnlyAfterTheFailoverTimeout() {
        SentinelWatcher w = watcher(3);
        allSee(w, "127.0.0.1:7001", "aaa", 1);
        tick();
        w.onEvent(w.address(1), "+new-epoch", "2");
        tick();
        allSee(w, "127.0.0.1:7001", "aaa", 1);
        assertThat(gate.state().open()).isFalse();
        now.addAndGet(java.util.concurrent.TimeUnit.SECONDS.toNanos(3));
        allSee(w, "127.0.0.1:7001", "aaa", 1);
        assertThat(gate.state().open()).isTrue();
    }

    @Test
    void aSentinelThatCannotListTheReplicasCannotOpenTheGate() {
        SentinelWatcher w = watcher(3);
        view(w, 0, "127.0.0.1:7001", "aaa", "master", -1, 1);
        view(w, 1, "127.0.0.1:7001", "aaa", "master", -1, 1);
        view(w, 2, "127.0.0.1:7001", "aaa", "master", 2, 1);
        assertThat(gate.state().open()).as("minReplicas: all would be guessed").isFalse();
        view(w, 0, "127.0.0.1:7001", "aaa", "master", 2, 1);
        assertThat(gate.state().open()).isTrue();
    }

    @Test
    void aReconnectedEventsConnectionCountsAsTrouble() {
        SentinelWatcher w = watcher(3);
        allSee(w, "127.0.0.1:7001", "aaa", 1);
        long epoch = gate.state().epoch();
        tick();
        w.eventsConnected(w.address(0));
        assertThat(gate.state().open()).isFalse();
        assertThat(gate.state().epoch()).isGreaterThan(epoch);
    }

    @Test
    void theMajorityIsOfTheWholeGroupNotOfTheSentinelsConfigured() {
        SentinelWatcher w = watcher(1);
        w.recordPong(0);
        w.recordView(0, new SentinelView(now.get(), "127.0.0.1:7001", "aaa", "master", 2, 1, 2,
                java.util.concurrent.TimeUnit.SECONDS.toNanos(3)));
        assertThat(gate.state().open()).as("1 configured of a group of 3").isFalse();
        assertThat(gate.state().reason()).contains("only 1 of 3");
    }

    @Test
    void aFailoverInProgressSeenByAnyAnsweringSentinelKeepsTheGateClosed() {
        SentinelWatcher w = watcher(3);
        view(w, 0, "127.0.0.1:7001", "aaa", "master", 2, 1);
        view(w, 1, "127.0.0.1:7001", "aaa", "master", 2, 1);
        view(w, 2, "127.0.0.1:7001", "aaa", "master,failover_in_progress", 2, 1);
        assertThat(gate.state().open()).isFalse();
        view(w, 2, "127.0.0.1:7001", "aaa", "s_down,master", 2, 1);
        assertThat(gate.state().open()).as("one Sentinel's s_down alone").isTrue();
    }

    @Test
    void readsTheEpochOfVotesAndNewEpochs() {
        assertThat(SentinelEvents.failoverEpoch("+new-epoch", "12")).isEqualTo(12);
        assertThat(SentinelEvents.failoverEpoch("+vote-for-leader", "0123abcd 13")).isEqualTo(13);
        assertThat(SentinelEvents.failoverEpoch("+sdown", "master mymaster 127.0.0.1 7001")).isZero();
        assertThat(trouble("-role-change", "slave 127.0.0.1:7002 127.0.0.1 7002 @ mymaster 127.0.0.1 7001 "
                + "new reported role is master")).as("a replica that now says it is a master").isTrue();
    }
}
