package dev.spillway.relay.sink;

/**
 * No reply can come on the relay's connection to the master: it could not be made (refused,
 * unreachable, TLS or authentication refused), or it closed before the replies came. Whether
 * commands already sent on it were applied is unknown. Transient: the next write opens a new
 * connection to the master the write gate names.
 */
public final class RedisLinkException extends RuntimeException {

    public RedisLinkException(String message, Throwable cause) {
        super(message, cause);
    }
}
