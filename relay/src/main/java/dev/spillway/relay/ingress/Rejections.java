package dev.spillway.relay.ingress;

import dev.spillway.relay.route.RelayRejectedException;

/** Turns a refused ack into the short reason every listener puts in its error reply. */
public final class Rejections {

    private Rejections() {}

    /** True when the client should retry elsewhere or later (HTTP 503, RESP -BUSY). */
    public static boolean isBusy(Throwable error) {
        return error instanceof RelayRejectedException r && r.reason() != RelayRejectedException.Reason.SPILL_FAILED
                && r.reason() != RelayRejectedException.Reason.REDIS_REFUSED
                && r.reason() != RelayRejectedException.Reason.OUTCOME_UNKNOWN;
    }

    /**
     * True when the outcome is unknown (the message may still be delivered): the connection is
     * closed without a reply, as a crash would, rather than answered with an error a producer
     * would take for a refusal.
     */
    public static boolean isOutcomeUnknown(Throwable error) {
        return error instanceof RelayRejectedException r && r.reason() == RelayRejectedException.Reason.OUTCOME_UNKNOWN;
    }

    /**
     * True when Redis itself refused the message ({@code WRONGTYPE}): retrying cannot help, and
     * the producer should see Redis's own words (RESP {@code -WRONGTYPE ...}, HTTP 409).
     */
    public static boolean isRedisRefusal(Throwable error) {
        return error instanceof RelayRejectedException r && r.reason() == RelayRejectedException.Reason.REDIS_REFUSED;
    }

    /**
     * True when {@code text} starts with a Redis-style error code: an upper-case word such as
     * {@code WRONGTYPE} or {@code OOM}, alone or followed by a space. A RESP reply passes such a
     * text on as it is rather than putting {@code ERR} in front of another code.
     */
    public static boolean startsWithErrorCode(String text) {
        int end = text.indexOf(' ');
        String word = end < 0 ? text : text.substring(0, end);
        if (word.isEmpty() || word.charAt(0) < 'A' || word.charAt(0) > 'Z') {
            return false;
        }
        for (int i = 1; i < word.length(); i++) {
            char c = word.charAt(i);
            if (!(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') && c != '_') {
                return false;
            }
        }
        return true;
    }

    public static String describe(Throwable error) {
        if (error instanceof RelayRejectedException r) {
            return switch (r.reason()) {
                case SPILL_FULL, SPILL_DISK_FULL -> r.getMessage();
                case SHUTTING_DOWN -> "relay is shutting down; retry on another relay";
                case SPILL_FAILED -> "spill log unavailable: " + r.getMessage();
                case OUTCOME_UNKNOWN -> "outcome unknown: " + r.getMessage();
                case REDIS_REFUSED -> r.getMessage() != null && !r.getMessage().isBlank() ? r.getMessage()
                        : "Redis refused the message";
            };
        }
        return "internal error: " + error;
    }
}
