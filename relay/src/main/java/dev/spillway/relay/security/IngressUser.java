package dev.spillway.relay.security;

import java.util.List;

/**
 * One producer identity on ingress, as a Redis ACL user: its RESP {@code AUTH} passwords, its
 * HTTP bearer tokens, and the key patterns it may push to (at least one must match).
 *
 * <p>Immutable; thread-safe. {@link #toString} shows the name and the patterns only.
 */
public record IngressUser(String name, List<Secret> passwords, List<Secret> tokens, List<KeyPattern> keys) {

    public IngressUser {
        if (name == null || name.isEmpty() || name.chars().anyMatch(c -> c <= ' ')) {
            throw new IllegalArgumentException("name: '" + name + "' (expected: a user name without spaces)");
        }
        passwords = List.copyOf(passwords);
        tokens = List.copyOf(tokens);
        keys = List.copyOf(keys);
    }

    /** A user that may push to every key. */
    static IngressUser unrestricted(String name, List<Secret> passwords, List<Secret> tokens) {
        return new IngressUser(name, passwords, tokens, List.of(KeyPattern.compile("*")));
    }

    /** Whether this user may push to {@code key}. */
    public boolean allows(byte[] key) {
        for (KeyPattern p : keys) {
            if (p.matches(key)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "user " + name + " (keys " + keys + ")";
    }
}
