package dev.spillway.relay.sink;

/**
 * The master did not answer a batch within {@code sink.redis.timeout} (plus {@code sink.ack.waitTimeout}
 * when it waits for replicas). The batch may have landed. Not retried: it already waited, and a
 * frozen master should open the breaker, not be asked again.
 */
public final class RedisReplyTimeoutException extends RuntimeException {

    public RedisReplyTimeoutException(String message) {
        super(message, null, false, false);
    }
}
