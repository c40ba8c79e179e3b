package dev.spillway.chaos.run;

import dev.spillway.chaos.check.ListCheck;
import java.util.List;
import java.util.Map;

/**
 * One chaos run, Jepsen-style: what was injected, what producers saw, and the checker's verdict.
 *
 * @param latencyMs per phase (steady / fault / recovery): p50, p99, p999, max in ms, and count
 * @param maxInFlight the most commands one producer connection had awaiting replies at once
 * @param refused values a relay refused with an error reply (part of {@code producerErrors})
 * @param errorsOutsideFaults producer-visible errors seen while no fault was being injected
 * @param firstErrorsOutsideFaults the first 20 of them
 * @param errorReasons every producer-visible error counted by protocol and reply (numbers as N)
 */
public record ChaosReport(long seed, long durationMs, List<FaultEvent> faults, int failoversSeen, long sent, long acked,
        int producerErrors, List<String> firstErrors, long resent, long reconnects, ListCheck check,
        Map<String, double[]> latencyMs, long maxDrainMs, long finalDrainMs, int maxInFlight, long refused,
        int errorsOutsideFaults, List<String> firstErrorsOutsideFaults, Map<String, Long> errorReasons) {

    /** One injected fault (or combination) and how long the system took to be whole again. */
    public record FaultEvent(String fault, String what, long atMs, long injectMs, long drainMs) {}

    /**
     * Nothing acknowledged was lost, nothing duplicated (beyond re-sends), nothing reordered or
     * invented, nothing refused landed.
     */
    public boolean ok() {
        return check.ok();
    }

    public String toText() {
        StringBuilder b = new StringBuilder();
        b.append("Spillway chaos report (seed ").append(seed).append(", ").append(durationMs / 1000).append(" s)\n");
        b.append("faults injected: ").append(faults.size()).append(", failovers seen: ").append(failoversSeen)
                .append('\n');
        for (FaultEvent f : faults) {
            b.append(String.format("  %7.1f s  %-28s %-70s settled in %5d ms, drained in %5d ms%n", f.atMs() / 1000.0,
                    f.fault(), f.what(), f.injectMs(), f.drainMs()));
        }
        b.append(String.format("messages: sent %d, acknowledged %d, refused (producer-visible errors) %d, "
                + "re-sent after an unknown outcome %d, reconnects %d; at most %d commands in flight on one connection%n",
                sent, acked, producerErrors, resent, reconnects, maxInFlight));
        if (producerErrors > 0) {
            b.append(String.format("of the errors: %d values refused by a relay with an error reply, %d seen outside "
                    + "faults%n", refused, errorsOutsideFaults));
            errorReasons.forEach((reason, n) -> b.append(String.format("  %7d × %s%n", n, reason)));
        }
        b.append(String.format("checker: present %d, lost %d, duplicated %d (+%d allowed copies of re-sent messages), "
                        + "reordered %d, unexpected %d, refused but present %d%n", check.present(), check.lostCount(),
                check.duplicatedCount(), check.resentDuplicates(), check.reorderedCount(), check.unexpectedCount(),
                check.refusedPresentCount()));
        latencyMs.forEach((phase, p) -> b.append(String.format("ack latency %-9s p50 %7.2f ms  p99 %7.2f ms  "
                + "p999 %7.2f ms  max %8.2f ms  (%d acks)%n", phase, p[0], p[1], p[2], p[3], (long) p[4])));
        b.append("longest drain after a fault: ").append(maxDrainMs).append(" ms; final drain: ").append(finalDrainMs)
                .append(" ms\n");
        if (!firstErrors.isEmpty()) {
            b.append("first producer-visible errors: ").append(firstErrors).append('\n');
        }
        if (!firstErrorsOutsideFaults.isEmpty()) {
            b.append("first errors outside faults: ").append(firstErrorsOutsideFaults).append('\n');
        }
        if (!check.ok()) {
            b.append("LOST ").append(check.lost()).append("\nDUPLICATED ").append(check.duplicated())
                    .append("\nREORDERED ").append(check.reordered()).append("\nUNEXPECTED ").append(check.unexpected())
                    .append("\nREFUSED BUT PRESENT ").append(check.refusedPresent()).append('\n');
        }
        b.append("verdict: ").append(ok() ? "OK — nothing acknowledged was lost, duplicated or reordered, nothing "
                + "refused landed"
                : "FAILED").append('\n');
        return b.toString();
    }
}
