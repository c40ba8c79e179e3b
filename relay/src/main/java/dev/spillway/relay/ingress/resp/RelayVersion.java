package dev.spillway.relay.ingress.resp;

/** Versions reported to Redis clients. */
final class RelayVersion {

    /** Spillway's own version, from the jar manifest. */
    static final String VERSION = dev.spillway.relay.Version.get();

    /**
     * The Redis version INFO and HELLO report: clients choose features by it, and Spillway
     * speaks the RESP2 subset of Redis 7.0 that producers use.
     */
    static final String REDIS_COMPATIBLE = "7.0.0";

    private RelayVersion() {}
}
