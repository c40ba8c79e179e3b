package dev.spillway.relay.route;

import dev.spillway.relay.sink.SinkConfig;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The keys producers may not use: Spillway's own — the high-water marks
 * ({@code sink.dedupeKeyPrefix}) and the dead-letter list ({@code sink.deadLetterKey}), where a
 * producer pushing would break the dedupe of every replay or wedge the dead letters — and keys
 * longer than the spill log can carry ({@value #MAX_KEY_BYTES} bytes), refused whether or not
 * the relay is spilling at the moment, so that a producer's key is not taken while Redis is up
 * and refused when it is not.
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

    static final int MAX_KEY_BYTES = 0xFFFF;

    /** Why {@code key} may not be used, as the error a producer gets, or null. */
    String why(byte[] key) {
        if (key.length > MAX_KEY_BYTES) {
            return "ERR key of " + key.length + " bytes exceeds Spillway's limit of " + MAX_KEY_BYTES
                    + " bytes (a key must fit the spill log)";
        }
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
