package dev.spillway.relay.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The gate's rule on its own: what a majority of Sentinels' views open it on. */
class GateRuleTest {

    private static GateRule.Heard heard(String sentinel, SentinelView view) {
        return new GateRule.Heard(sentinel, true, view);
    }

    private static SentinelView view(long at, int healthy, Set<String> promotable) {
        return new SentinelView(at, "127.0.0.1:6379", "abc", "master", healthy, 1, 2, 180_000_000_000L, promotable);
    }

    @Test
    void opensOnTheMasterAMajorityNamesWithEveryReplicaAnyOfThemCouldPromote() {
        GateRule.Decision d = GateRule.decide(List.of(
                heard("s1", view(10, 2, Set.of("127.0.0.1:6381", "127.0.0.1:6382"))),
                heard("s2", view(10, 1, Set.of("127.0.0.1:6381"))),
                heard("s3", view(10, 2, Set.of("127.0.0.1:6382", "127.0.0.1:6383")))), 20, 0, 0, 0, a -> null);
        assertThat(d.open()).isTrue();
        assertThat(d.master()).isEqualTo("127.0.0.1:6379");
        assertThat(d.replicas()).isEqualTo(2);
        assertThat(d.promotable()).containsExactlyInAnyOrder("127.0.0.1:6381", "127.0.0.1:6382", "127.0.0.1:6383");
    }

    @Test
    void staysClosedWithoutAMajorityOrOnViewsOlderThanTheLastTrouble() {
        assertThat(GateRule.decide(List.of(heard("s1", view(10, 2, Set.of())), new GateRule.Heard("s2", false, null),
                new GateRule.Heard("s3", false, null)), 20, 0, 0, 0, a -> null).open()).isFalse();
        assertThat(GateRule.decide(List.of(heard("s1", view(10, 2, Set.of())), heard("s2", view(10, 2, Set.of())),
                heard("s3", view(10, 2, Set.of()))), 20, 15, 0, 0, a -> null).open()).as("trouble at 15").isFalse();
    }
}
