package dev.spillway.relay.config;

import dev.spillway.relay.security.IngressUser;
import dev.spillway.relay.security.IngressUsers;
import dev.spillway.relay.security.KeyPattern;
import dev.spillway.relay.security.Secret;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the file's {@code security} section (and {@code listeners.line.user}) into a
 * {@link SecurityConfig}: secrets read from their files and hashed, users checked, the line
 * listener's user resolved. Messages name the setting, never a secret.
 *
 * <p>Stateless; thread-safe.
 */
final class SecuritySettings {

    private SecuritySettings() {}

    static SecurityConfig toConfig(RelayFile.Security sec, String lineUserName, boolean lineEnabled, String lineKey) {
        if (sec == null) {
            sec = new RelayFile.Security(null, null, null, null, null, null, null, null, null);
        }
        Secret password = secret("security.password", sec.password(), sec.passwordFile());
        Secret httpToken = secret("security.httpToken", sec.httpToken(), sec.httpTokenFile());
        Secret adminToken = secret("security.adminToken", sec.adminToken(), sec.adminTokenFile());
        List<IngressUser> users = new ArrayList<>();
        List<RelayFile.User> listed = sec.users() == null ? List.of() : sec.users();
        for (int i = 0; i < listed.size(); i++) {
            users.add(user("security.users[" + i + "]", listed.get(i)));
        }
        IngressUsers all;
        try {
            all = IngressUsers.of(users, password, httpToken);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("security." + e.getMessage(), e);
        }
        IngressUser lineUser = lineUser(all, lineUserName, lineEnabled, lineKey);
        RelayFile.SecurityTls t = sec.tls();
        TlsConfig tls = t == null || t.certFile() == null && t.keyFile() == null && t.clientCaFile() == null ? null
                : new TlsConfig(path(t.certFile()), path(t.keyFile()), path(t.clientCaFile()));
        return new SecurityConfig(all, lineUser, adminToken, Boolean.TRUE.equals(sec.allowAdminWithoutToken()), tls);
    }

    private static IngressUser user(String path, RelayFile.User u) {
        if (u == null) {
            throw new ConfigException(path + ": empty (expected: a user with name, password and/or tokens, keys)");
        }
        List<Secret> passwords = u.password() == null ? List.of() : List.of(parse(path + ".password", u.password()));
        List<Secret> tokens = new ArrayList<>();
        List<String> tokenList = u.tokens() == null ? List.of() : u.tokens();
        for (int i = 0; i < tokenList.size(); i++) {
            tokens.add(parse(path + ".tokens[" + i + "]", tokenList.get(i)));
        }
        if (u.keys() == null || u.keys().isEmpty()) {
            throw new ConfigException(path + ".keys: none (expected: at least one key pattern, e.g. 'orders:*' or '*')");
        }
        try {
            return new IngressUser(u.name(), passwords, tokens, u.keys().stream().map(KeyPattern::compile).toList());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(path + "." + e.getMessage(), e);
        }
    }

    private static IngressUser lineUser(IngressUsers users, String name, boolean lineEnabled, String lineKey) {
        if (name == null || name.isEmpty()) {
            if (users.hasUsers() && lineEnabled) {
                throw new ConfigException("listeners.line.user: none, while security.users is set (expected: the "
                        + "user the line listener pushes as, since the line protocol cannot authenticate; "
                        + "or listeners.line.enabled: false)");
            }
            return null;
        }
        IngressUser u = users.user(name);
        if (u == null) {
            throw new ConfigException("listeners.line.user: '" + name + "' (expected: one of the users "
                    + users.names() + ")");
        }
        if (!u.allows(lineKey.getBytes(StandardCharsets.UTF_8))) {
            throw new ConfigException("listeners.line.user: '" + name + "' may not push to listeners.line.key '"
                    + lineKey + "' (its keys: " + u.keys() + ")");
        }
        return u;
    }

    /** The secret given as a value or in a file (one or the other), or null when neither is set. */
    private static Secret secret(String setting, String value, String file) {
        if (value != null && file != null) {
            throw new ConfigException(setting + " and " + setting + "File are both set (expected: one of them)");
        }
        if (file != null) {
            return parse(setting + "File", read(setting + "File", file));
        }
        return value == null ? null : parse(setting, value);
    }

    private static Secret parse(String setting, String value) {
        try {
            return Secret.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(setting + ": " + e.getMessage(), e);
        }
    }

    /** The file's text without its trailing newline(s), as `echo s3cret > file` leaves it. */
    private static String read(String setting, String file) {
        try {
            String s = Files.readString(Path.of(file), StandardCharsets.UTF_8);
            int end = s.length();
            while (end > 0 && (s.charAt(end - 1) == '\n' || s.charAt(end - 1) == '\r')) {
                end--;
            }
            if (end == 0) {
                throw new ConfigException(setting + ": " + file + " is empty (expected: the secret)");
            }
            return s.substring(0, end);
        } catch (IOException e) {
            throw new ConfigException(setting + ": cannot read " + file + " (" + e + ")", e);
        }
    }

    private static Path path(String p) {
        return p == null || p.isEmpty() ? null : Path.of(p);
    }
}
