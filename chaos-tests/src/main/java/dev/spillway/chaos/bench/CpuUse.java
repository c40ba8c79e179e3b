package dev.spillway.chaos.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The CPU time one bench row cost, per process and per acknowledged message ({@link
 * CpuAccounting}).
 *
 * @param messages acknowledged in the measured interval
 * @param seconds the interval's length
 * @param clockTicksPerSecond the unit of the ticks ({@code getconf CLK_TCK})
 * @param totalMicrosPerMessage the sum over every process
 */
public record CpuUse(long messages, double seconds, long clockTicksPerSecond, double totalMicrosPerMessage,
        List<Process> processes) {

    /** The order of the roles in the table; each role's processes are in the order measured. */
    public static final List<String> ROLES = List.of("master", "replica", "relay", "haproxy", "sentinel",
            "load generator");

    /**
     * One process's share.
     *
     * @param role master, replica, relay, haproxy, sentinel or load generator
     * @param ticks CPU time (user + kernel) used in the interval, clock ticks
     * @param partial empty, or why the ticks do not cover the whole interval: "restarted" (only
     *     the replacement process's time is known) or "gone" (it was not running at the end)
     */
    public record Process(String name, String role, long ticks, double microsPerMessage,
            @JsonInclude(JsonInclude.Include.NON_EMPTY) String partial) {}

    static CpuUse of(long messages, double seconds, long clockTicksPerSecond, List<Process> processes) {
        double total = processes.stream().mapToDouble(Process::microsPerMessage).sum();
        return new CpuUse(messages, seconds, clockTicksPerSecond, total, List.copyOf(processes));
    }

    /** The µs per message of each process in {@code role}, joined by " + " ("" if none); {@code *} marks a partial one. */
    public String column(String role) {
        return processes.stream().filter(p -> p.role().equals(role))
                .map(p -> String.format("%.1f", p.microsPerMessage()) + (p.partial().isEmpty() ? "" : "*"))
                .collect(Collectors.joining(" + "));
    }
}
