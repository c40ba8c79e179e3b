package dev.spillway.relay.ingress;

import dev.spillway.relay.route.RelayRejectedException;

/** Turns a refused ack into the short reason every listener puts in its error reply. */
public final class Rejections {

    private Rejections() {}

    /** True when the client should retry elsewhere or later (HTTP 503, RESP -BUSY). */
    public static boolean isBusy(Throwable error) {
        return error instanceof RelayRejectedException r && r.reason() != RelayRejectedException.Reason.SPILL_FAILED
                && r.reason() != RelayRejectedException.Reason.REDIS_REFUSED;
    }

    public static String describe(Throwable error) {
        if (error instanceof RelayRejectedException r) {
            return switch (r.reason()) {
                case SPILL_FULL -> r.getMessage();
                case SHUTTING_DOWN -> "relay is shutting down; retry on another relay";
                case SPILL_FAILED -> "spill log unavailable: " + r.getMessage();
                case REDIS_REFUSED -> r.getMessage();
            };
        }
        return "internal error: " + error;
    }
}
