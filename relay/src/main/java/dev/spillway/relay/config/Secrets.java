package dev.spillway.relay.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Secrets given as a value or as a file (a mounted Kubernetes or Docker secret, a file only
 * the relay's user may read). A file holds the secret alone; its trailing line break is not
 * part of it. Messages name the setting and the file, never the secret.
 *
 * <p>Stateless; thread-safe.
 */
final class Secrets {

    private Secrets() {}

    /**
     * The secret of {@code setting}: {@code value}, or the content of {@code file}, or null when
     * neither is set.
     *
     * @throws ConfigException when both are set, or the file cannot be read or is empty
     */
    static String valueOrFile(String setting, String value, String file) {
        if (file == null) {
            return value;
        }
        if (value != null) {
            throw new ConfigException(setting + " and " + setting + "File: both set (expected: one of them)");
        }
        String secret;
        try {
            secret = Files.readString(Path.of(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(setting + "File: " + file + ": cannot read it (" + e.getClass().getSimpleName()
                    + ")", e);
        }
        secret = secret.endsWith("\r\n") ? secret.substring(0, secret.length() - 2)
                : secret.endsWith("\n") ? secret.substring(0, secret.length() - 1) : secret;
        if (secret.isEmpty()) {
            throw new ConfigException(setting + "File: " + file + ": empty (expected: the secret)");
        }
        return secret;
    }
}
