package dev.spillway.relay.config;

import java.time.Duration;

/**
 * Bounds on everything a client can make the relay hold. Each default is defined once, here.
 *
 * @param maxValueBytes largest single value (a RESP bulk string, a line, an HTTP message)
 * @param maxRequestBytes largest RESP command or HTTP body in all
 * @param maxMultibulk most elements in one RESP command (command name and key included)
 * @param maxInlineBytes longest inline (telnet-style) RESP command
 * @param maxInFlightPerConnection messages one connection may have waiting for their ack before
 *     the relay stops reading from it
 * @param maxInFlightTotal messages all connections together may have waiting before every
 *     connection stops reading
 * @param maxConnections open ingress connections, all listeners together
 * @param idleTimeout a connection that sends nothing for this long and waits for nothing is closed
 */
public record Limits(int maxValueBytes, int maxRequestBytes, int maxMultibulk, int maxInlineBytes,
        int maxInFlightPerConnection, int maxInFlightTotal, int maxConnections, Duration idleTimeout) {

    public static final int DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;
    public static final int DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024;
    public static final int DEFAULT_MAX_MULTIBULK = 100_000;
    public static final int DEFAULT_MAX_INLINE_BYTES = 64 * 1024;
    public static final int DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 4096;
    public static final int DEFAULT_MAX_IN_FLIGHT_TOTAL = 200_000;
    public static final int DEFAULT_MAX_CONNECTIONS = 10_000;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(5);

    public static Limits defaults() {
        return new Limits(DEFAULT_MAX_VALUE_BYTES, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_MULTIBULK,
                DEFAULT_MAX_INLINE_BYTES, DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION, DEFAULT_MAX_IN_FLIGHT_TOTAL,
                DEFAULT_MAX_CONNECTIONS, DEFAULT_IDLE_TIMEOUT);
    }

    public Limits {
        positive("limits.maxValueBytes", maxValueBytes);
        positive("limits.maxRequestBytes", maxRequestBytes);
        positive("limits.maxMultibulk", maxMultibulk);
        positive("limits.maxInlineBytes", maxInlineBytes);
        positive("limits.maxInFlightPerConnection", maxInFlightPerConnection);
        positive("limits.maxInFlightTotal", maxInFlightTotal);
        positive("limits.maxConnections", maxConnections);
        if (maxRequestBytes < maxValueBytes) {
            throw new ConfigException("limits.maxRequestBytes: " + maxRequestBytes + " (expected: >= limits.maxValueBytes "
                    + maxValueBytes + ")");
        }
        if (maxMultibulk < 3) {
            throw new ConfigException("limits.maxMultibulk: " + maxMultibulk + " (expected: >= 3, for RPUSH key value)");
        }
        if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new ConfigException("limits.idleTimeout: " + idleTimeout + " (expected: > 0)");
        }
    }

    private static void positive(String field, long v) {
        if (v <= 0) {
            throw new ConfigException(field + ": " + v + " (expected: > 0)");
        }
    }
}
