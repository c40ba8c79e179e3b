package dev.spillway.relay.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the configuration writes durations ({@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h},
 * {@code 7d}), sizes ({@code 4096}, {@code 64KiB}, {@code 16MiB}, {@code 1GiB}) and switches
 * ({@code true}/{@code false}, also {@code yes}/{@code no}, {@code on}/{@code off}): one
 * deserializer each, for the YAML file and the {@code SPILLWAY_*} variables alike.
 */
final class Units {

    static final String DURATION_EXPECTED = "a duration such as 500ms, 10s, 5m, 1h, 7d";
    static final String SIZE_EXPECTED = "a size in bytes, optionally with KiB, MiB or GiB";
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB)?");

    private Units() {}

    /** A number of bytes. */
    record DataSize(long bytes) {
        int intBytes() {
            return (int) Math.min(Integer.MAX_VALUE, bytes);
        }
    }

    static SimpleModule module() {
        SimpleModule m = new SimpleModule("spillway-units");
        m.addDeserializer(Duration.class, new JsonDeserializer<>() {
            @Override
            public Duration deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
                String s = p.getValueAsString();
                Matcher matcher = s == null ? null : DURATION.matcher(s.trim());
                if (matcher == null || !matcher.matches()) {
                    throw ctx.weirdStringException(String.valueOf(s), Duration.class, DURATION_EXPECTED);
                }
                long n = Long.parseLong(matcher.group(1));
                return switch (matcher.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
        });
        m.addDeserializer(DataSize.class, new JsonDeserializer<>() {
            @Override
            public DataSize deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
                String s = p.getValueAsString();
                Matcher matcher = s == null ? null : SIZE.matcher(s.trim());
                if (matcher == null || !matcher.matches()) {
                    throw ctx.weirdStringException(String.valueOf(s), DataSize.class, SIZE_EXPECTED);
                }
                long n = Long.parseLong(matcher.group(1));
                String unit = matcher.group(2) == null ? "B" : matcher.group(2);
                return new DataSize(switch (unit) {
                    case "KiB" -> n << 10;
                    case "MiB" -> n << 20;
                    case "GiB" -> n << 30;
                    default -> n;
                });
            }
        });
        m.addDeserializer(Boolean.class, new JsonDeserializer<>() {
            @Override
            public Boolean deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
                String s = p.getValueAsString();
                return switch (s == null ? "" : s.trim().toLowerCase(Locale.ROOT)) {
                    case "true", "yes", "on" -> true;
                    case "false", "no", "off" -> false;
                    default -> throw ctx.weirdStringException(String.valueOf(s), Boolean.class, "true or false");
                };
            }
        });
        return m;
    }
}
