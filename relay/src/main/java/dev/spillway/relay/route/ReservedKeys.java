package dev.spillway.relay.route;

import dev.spillway.relay.sink.SinkConfig;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The keys that are Spillway's own: the high-water marks ({@code sink.dedupeKeyPrefix}) and the
 * dead-letter list ({@code sink.deadLetterKey}). A producer pushing there would break the dedupe
 * of every replay or wedge the dead letters.
 *
 * <p>Immutable; thread-safe.
 */
final class ReservedKeys {

    private final SinkConfig config;
    private final byte[] prefix;
    private final byte[] deadLetter;

    ReservedKeys(SinkConfig config) {
        this.config = config;
        this.prefix = config.dedupeKeyPrefix().getBytes(StandardCharsets.UTF_8);
        this.deadLetter = config.deadLetterKey().getBytes(StandardCharsets.UTF_8);
    }

    /** Why {@code key} is Spillway's own, as the error a producer gets, or null. */
    String why(byte[] key) {
        if (key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length)) {
            return "ERR key '" + new String(key, StandardCharsets.UTF_8) + "' is reserved: keys starting with "
                    + "sink.dedupeKeyPrefix '" + config.dedupeKeyPrefix() + "' hold Spillway's high-water marks";
        }
        if (Arrays.equals(key, deadLetter)) {
            return "ERR key '" + config.deadLetterKey() + "' is reserved: it is Spillway's dead-letter list "
                    + "(sink.deadLetterKey)";
        }
        return null;
    }
}
