package dev.spillway.relay.config;

import dev.spillway.relay.security.IngressUser;
import dev.spillway.relay.security.IngressUsers;
import dev.spillway.relay.security.Secret;
import java.util.Objects;

/**
 * Who may use the relay's listeners: the ingress users ({@code security.users}, with the
 * {@code default} user of {@code security.password} / {@code httpToken}), the user the line
 * listener pushes as, the admin token, and the TLS certificate. Secrets are held hashed
 * ({@link Secret}); nothing here prints one.
 *
 * @param lineUser the user whose key patterns the line listener is held to, or null for none
 * @param adminToken bearer token the admin endpoints require (probes aside), or null for none
 * @param allowAdminWithoutToken let the admin listener bind beyond loopback without a token
 * @param tls the listeners' certificate, or null when no listener has TLS
 */
public record SecurityConfig(IngressUsers users, IngressUser lineUser, Secret adminToken,
        boolean allowAdminWithoutToken, TlsConfig tls) {

    public SecurityConfig {
        Objects.requireNonNull(users, "users");
    }
}
