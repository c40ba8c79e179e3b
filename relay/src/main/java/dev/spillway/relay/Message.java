package dev.spillway.relay;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One producer message on its way to a Redis list.
 *
 * <p>{@code instance} and {@code sequence} together are the relay-assigned id that makes every
 * write idempotent: {@code instance} names one relay incarnation (a random value chosen at
 * start-up), {@code sequence} increases by one for every message that incarnation accepts.
 * The byte arrays are owned by the message once constructed and must not be changed. Either may
 * be empty: Redis takes {@code RPUSH "" ""}, and so does the relay.
 *
 * <p>Immutable and thread-safe as long as callers respect the ownership of the arrays.
 */
public record Message(long instance, long sequence, ListOp op, byte[] key, byte[] value) {

    public Message {
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }

    /** Content equality: two messages are equal when id, op, key and value bytes are. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Message m && instance == m.instance && sequence == m.sequence && op == m.op
                && Arrays.equals(key, m.key) && Arrays.equals(value, m.value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(instance, sequence, op, Arrays.hashCode(key), Arrays.hashCode(value));
    }

    public String keyString() {
        return new String(key, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "Message[" + Long.toHexString(instance) + ":" + sequence + " " + op + " " + keyString()
                + " (" + value.length + " bytes)]";
    }

    /** How the message is added to its list. */
    public enum ListOp {
        RPUSH((byte) 0),
        LPUSH((byte) 1);

        private final byte code;

        ListOp(byte code) {
            this.code = code;
        }

        public byte code() {
            return code;
        }

        public static ListOp fromCode(byte code) {
            return switch (code) {
                case 0 -> RPUSH;
                case 1 -> LPUSH;
                default -> throw new IllegalArgumentException("list op code " + code + " (expected: 0 or 1)");
            };
        }
    }
}
