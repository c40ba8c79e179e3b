package dev.spillway.relay.security;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Who may push through the relay's ingress, and to which keys: the configured users
 * ({@code security.users}) and the {@code default} user, whose password is
 * {@code security.password} ({@code AUTH <password>}) and whose token is
 * {@code security.httpToken}, with every key allowed.
 *
 * <p>A protocol asks for credentials as soon as any are configured for it — RESP when any user
 * has a password, HTTP when any user has a token — and for both as soon as {@code security.users}
 * lists anyone: then a connection is nobody until it authenticates. With no credentials at all,
 * every producer is the unrestricted {@code default} user, as before users existed.
 *
 * <p>Immutable; thread-safe.
 */
public final class IngressUsers {

    public static final String DEFAULT_USER = "default";

    private final Map<String, IngressUser> byName;
    private final boolean respAuth;
    private final boolean httpAuth;
    private final boolean listed;
    private final IngressUser anonymous;

    private IngressUsers(Map<String, IngressUser> byName, boolean respAuth, boolean httpAuth, boolean listed) {
        this.byName = byName;
        this.listed = listed;
        this.respAuth = respAuth;
        this.httpAuth = httpAuth;
        this.anonymous = IngressUser.unrestricted(DEFAULT_USER, List.of(), List.of());
    }

    /** Nobody needs to authenticate. */
    public static IngressUsers open() {
        return of(List.of(), null, null);
    }

    /**
     * The users, plus the {@code default} user when {@code password} or {@code httpToken} is set
     * (either may be null).
     *
     * @throws IllegalArgumentException for a name given twice, or a {@code default} user listed
     *     while {@code password} or {@code httpToken} is also set
     */
    public static IngressUsers of(List<IngressUser> users, Secret password, Secret httpToken) {
        Map<String, IngressUser> byName = new LinkedHashMap<>();
        if (password != null || httpToken != null) {
            if (users.stream().anyMatch(u -> u.name().equals(DEFAULT_USER))) {
                throw new IllegalArgumentException("users: 'default' is listed while security.password or "
                        + "security.httpToken is set too (they are the default user's; give its credentials in one place)");
            }
            byName.put(DEFAULT_USER, IngressUser.unrestricted(DEFAULT_USER,
                    password == null ? List.of() : List.of(password), httpToken == null ? List.of() : List.of(httpToken)));
        }
        for (IngressUser u : users) {
            if (byName.putIfAbsent(u.name(), u) != null) {
                throw new IllegalArgumentException("users: '" + u.name() + "' is listed twice");
            }
        }
        boolean listed = !users.isEmpty();
        boolean respAuth = listed || byName.values().stream().anyMatch(u -> !u.passwords().isEmpty());
        boolean httpAuth = listed || byName.values().stream().anyMatch(u -> !u.tokens().isEmpty());
        return new IngressUsers(byName, respAuth, httpAuth, listed);
    }

    /** Whether a RESP connection must {@code AUTH} before it pushes. */
    public boolean respAuthRequired() {
        return respAuth;
    }

    /** Whether an HTTP request must carry a bearer token. */
    public boolean httpAuthRequired() {
        return httpAuth;
    }

    /** Whether {@code security.users} lists anyone: then every listener needs an identity. */
    public boolean hasUsers() {
        return listed;
    }

    /** Who a connection is before it authenticates: everyone may push when nothing is required. */
    public IngressUser anonymous() {
        return anonymous;
    }

    /** The user so named, or null. */
    public IngressUser user(String name) {
        return byName.get(name);
    }

    /** The user whose name and password these are, or null (unknown user or wrong password alike). */
    public IngressUser authenticate(String name, byte[] password) {
        IngressUser u = byName.get(name);
        byte[] digest = Secret.sha256(password); // hashed whether the user exists or not
        if (u == null) {
            return null;
        }
        boolean ok = false;
        for (Secret s : u.passwords()) {
            ok |= s.matchesDigest(digest);
        }
        return ok ? u : null;
    }

    /** The user holding {@code token}, or null; every user's every token is compared. */
    public IngressUser byToken(String token) {
        byte[] digest = Secret.sha256(token.getBytes(StandardCharsets.UTF_8));
        IngressUser found = null;
        for (IngressUser u : byName.values()) {
            for (Secret s : u.tokens()) {
                if (s.matchesDigest(digest) && found == null) {
                    found = u;
                }
            }
        }
        return found;
    }

    /** The names of the users, the {@code default} user included when it has credentials. */
    public List<String> names() {
        return new ArrayList<>(byName.keySet());
    }

    @Override
    public String toString() {
        return byName.isEmpty() ? "open (no users, no password, no token)" : "users " + byName.values();
    }
}
