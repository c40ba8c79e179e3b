package dev.spillway.relay.config;

/** A configuration that cannot be used; the message names the field, the value and what is expected. */
public final class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
