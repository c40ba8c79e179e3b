package dev.spillway.relay.security;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A password or token, held only as its SHA-256, as Redis ACL keeps passwords: in the
 * configuration either the secret itself or {@code #} followed by the 64 hex digits of its
 * SHA-256 ({@code printf %s 's3cret' | sha256sum}). A candidate is checked by hashing it and
 * comparing the two digests with {@link MessageDigest#isEqual} (constant time), so neither its
 * length nor its first differing byte shows in the time taken.
 *
 * <p>Immutable; thread-safe. {@link #toString} never shows the secret nor its hash.
 */
public final class Secret {

    private final byte[] sha256;

    private Secret(byte[] sha256) {
        this.sha256 = sha256;
    }

    /**
     * A secret as configured: {@code #<64 hex digits>} is a SHA-256, anything else the secret
     * itself.
     *
     * @throws IllegalArgumentException for an empty value, or a {@code #} not followed by 64 hex digits
     */
    public static Secret parse(String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("'' (expected: a secret, or #<sha256 hex>)");
        }
        if (value.startsWith("#")) {
            String hex = value.substring(1);
            if (!hex.matches("[0-9a-fA-F]{64}")) {
                throw new IllegalArgumentException("a value starting with '#' must be '#' and the 64 hex digits "
                        + "of the secret's SHA-256 (got " + hex.length() + " characters after '#')");
            }
            return new Secret(HexFormat.of().parseHex(hex));
        }
        return new Secret(sha256(value.getBytes(StandardCharsets.UTF_8)));
    }

    public boolean matches(byte[] candidate) {
        return MessageDigest.isEqual(sha256, sha256(candidate));
    }

    /** Whether {@code candidate}'s SHA-256 is this one's, in constant time. */
    boolean matchesDigest(byte[] candidateSha256) {
        return MessageDigest.isEqual(sha256, candidateSha256);
    }

    public static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "(secret)";
    }
}
