package dev.spillway.chaos.topology;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The fields of one {@code /proc/<pid>/stat} line that the tools here use (proc(5)): the state
 * letter, the CPU time the process has used and the CPU time of the children it has reaped, in
 * clock ticks, and its start time, which tells a process from a later one given the same pid.
 *
 * <p>The second field, the command name in parentheses, may itself hold spaces and parentheses
 * ({@code 1234 (java (x) y) S ...}): it runs to the <em>last</em> {@code ')'} of the line, and
 * the numbered fields are counted from there.
 *
 * @param utime user-mode CPU time, clock ticks (field 14)
 * @param stime kernel-mode CPU time, clock ticks (field 15)
 * @param cutime user-mode CPU time of the children waited for (field 16)
 * @param cstime kernel-mode CPU time of the children waited for (field 17)
 * @param startTime clock ticks after boot at which the process started (field 22)
 */
public record ProcStat(long pid, String comm, char state, long utime, long stime, long cutime, long cstime,
        long startTime) {

    /** Fields 3 (state) to 22 (starttime), counted after the command name. */
    private static final int STATE = 0;
    private static final int UTIME = 11;
    private static final int STIME = 12;
    private static final int CUTIME = 13;
    private static final int CSTIME = 14;
    private static final int STARTTIME = 19;

    /** Parses one line of {@code /proc/<pid>/stat}; {@link IllegalArgumentException} if it is not one. */
    public static ProcStat parse(String line) {
        int open = line.indexOf('(');
        int close = line.lastIndexOf(')');
        if (open < 1 || close < open || close + 2 > line.length()) {
            throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + line);
        }
        String[] f = line.substring(close + 2).trim().split(" +");
        if (f.length <= STARTTIME || f[STATE].length() != 1) {
            throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + line);
        }
        try {
            return new ProcStat(Long.parseLong(line.substring(0, open).trim()), line.substring(open + 1, close),
                    f[STATE].charAt(0), Long.parseLong(f[UTIME]), Long.parseLong(f[STIME]), Long.parseLong(f[CUTIME]),
                    Long.parseLong(f[CSTIME]), Long.parseLong(f[STARTTIME]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + line, e);
        }
    }

    /** The process's line now, or empty if it is gone (or this is not Linux). */
    public static Optional<ProcStat> read(long pid) {
        if (pid < 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(parse(Files.readString(Path.of("/proc", String.valueOf(pid), "stat"))));
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** CPU time the process itself has used (user + kernel), clock ticks. */
    public long cpuTicks() {
        return utime + stime;
    }

    /** CPU time of the children the process has reaped (user + kernel), clock ticks. */
    public long childrenCpuTicks() {
        return cutime + cstime;
    }
}
