package dev.spillway.relay.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class KeyPatternTest {

    private static boolean matches(String pattern, String key) {
        return KeyPattern.compile(pattern).matches(key.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void starMatchesAnyRunIncludingNone() {
        assertThat(matches("orders:*", "orders:")).isTrue();
        assertThat(matches("orders:*", "orders:eu:42")).isTrue();
        assertThat(matches("orders:*", "orders")).isFalse();
        assertThat(matches("orders:*", "xorders:1")).isFalse();
        assertThat(matches("*", "")).isTrue();
        assertThat(matches("*", "anything at all")).isTrue();
        assertThat(matches("a*b*c", "aXXbYYc")).isTrue();
        assertThat(matches("a*b*c", "aXXbYY")).isFalse();
        assertThat(matches("*:log", "svc:a:log")).isTrue();
        assertThat(matches("a**b", "ab")).isTrue();
    }

    @Test
    void questionMarkIsExactlyOneByte() {
        assertThat(matches("q?", "q1")).isTrue();
        assertThat(matches("q?", "q")).isFalse();
        assertThat(matches("q?", "q12")).isFalse();
        assertThat(matches("q?", "q\u00e9")).as("é is two bytes in UTF-8").isFalse();
        assertThat(matches("q??", "q\u00e9")).isTrue();
    }

    @Test
    void classesRangesAndNegation() {
        assertThat(matches("log:[abc]", "log:b")).isTrue();
        assertThat(matches("log:[abc]", "log:d")).isFalse();
        assertThat(matches("v[0-9]", "v7")).isTrue();
        assertThat(matches("v[9-0]", "v7")).as("a reversed range is swapped, as Redis does").isTrue();
        assertThat(matches("v[0-9]", "vx")).isFalse();
        assertThat(matches("v[^0-9]", "vx")).isTrue();
        assertThat(matches("v[^0-9]", "v3")).isFalse();
        assertThat(matches("v[\\]]", "v]")).isTrue();
        assertThat(matches("v[abc", "vb")).as("an unclosed class ends with the pattern").isTrue();
    }

    @Test
    void backslashTakesTheNextCharacterLiterally() {
        assertThat(matches("a\\*b", "a*b")).isTrue();
        assertThat(matches("a\\*b", "aXb")).isFalse();
        assertThat(matches("a\\?", "a?")).isTrue();
        assertThat(matches("a\\", "a\\")).as("a trailing backslash is itself").isTrue();
    }

    @Test
    void matchesBinaryKeysByteForByte() {
        byte[] key = {'k', (byte) 0xff, 0, 'z'};
        assertThat(KeyPattern.compile("k*z").matches(key)).isTrue();
        assertThat(KeyPattern.compile("k??z").matches(key)).isTrue();
        assertThat(KeyPattern.compile("k?z").matches(key)).isFalse();
    }

    @Test
    void manyStarsAgainstALongMissDoNotBlowUp() {
        String key = "a".repeat(5_000);
        long start = System.nanoTime();
        assertThat(matches("*a*a*a*a*a*a*a*a*b", key)).isFalse();
        assertThat(System.nanoTime() - start).as("linear-ish, not exponential").isLessThan(2_000_000_000L);
    }
}
