package dev.spillway.chaos.bench;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * One row of the bench table (and of its JSON file); {@code NaN} where a column does not apply.
 *
 * @param role what the target is to the throughput ratios; {@link Role#NONE} where they do not apply
 * @param cpu the CPU time per acknowledged message of every process the row involved; null in a
 *     row that acknowledges no messages (a note)
 */
public record BenchRow(String test, String target, double perSecond, double p50, double p99, double p999,
        String note, @JsonIgnore Role role, CpuUse cpu) {

    /**
     * A target's part in the throughput ratios of one test: relays and passthrough are compared
     * with the master written directly, and the relays also with the passthrough.
     */
    public enum Role { DIRECT, RELAYS, PASSTHROUGH, COMPARED, NONE }

    /** A row with no throughput ratios. */
    static BenchRow of(String test, String target, double perSecond, double p50, double p99, double p999,
            String note) {
        return new BenchRow(test, target, perSecond, p50, p99, p999, note, Role.NONE, null);
    }

    /** A row with only a note. */
    static BenchRow note(String test, String target, String note) {
        return of(test, target, Double.NaN, Double.NaN, Double.NaN, Double.NaN, note);
    }

    /** This row with the CPU time its interval cost. */
    BenchRow withCpu(CpuUse use) {
        return new BenchRow(test, target, perSecond, p50, p99, p999, note, role, use);
    }
}
