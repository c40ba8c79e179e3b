package dev.spillway.chaos.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The durations and sizes the commands take as arguments, parsed in one place. */
final class Units {

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)([kmg]?)i?b?", Pattern.CASE_INSENSITIVE);

    private Units() {}

    /** A duration such as 500ms, 10s, 2m or 1h. */
    static Duration duration(String s) {
        Matcher m = DURATION.matcher(s.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("duration '" + s + "' (expected e.g. 500ms, 10s, 2m, 1h)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    /** A size such as 512k, 1m or 16m (KiB, MiB, GiB; a bare number is bytes). */
    static long bytes(String s) {
        Matcher m = SIZE.matcher(s.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("size '" + s + "' (expected e.g. 512k, 1m, 16m)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> n << 10;
            case "m" -> n << 20;
            case "g" -> n << 30;
            default -> n;
        };
    }
}
