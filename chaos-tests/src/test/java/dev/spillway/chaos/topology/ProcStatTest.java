package dev.spillway.chaos.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * {@code /proc/<pid>/stat} parsing: the command name may hold spaces and parentheses, so the
 * numbered fields are counted from the last {@code ')'}; and this JVM's own line reads.
 */
class ProcStatTest {

    /** A real line's shape (kernel 6.x), fields 14-17 and 22 made distinct to catch an off-by-one. */
    private static final String LINE = "1234 (java (x) y) S 1 1234 1234 0 -1 4194560 26005 0 12 0 "
            + "1517 283 41 7 20 0 27 0 98765 4294967295 1234 1 1 1 1 1 0 0 2 16384 1073748216 0 0 0 17 1 0 0 0 0 0 "
            + "1 1 1 1 1 1 1 0\n";

    @Test
    void aCommandNameWithSpacesAndParenthesesDoesNotShiftTheFields() {
        ProcStat s = ProcStat.parse(LINE);
        assertThat(s.pid()).isEqualTo(1234);
        assertThat(s.comm()).isEqualTo("java (x) y");
        assertThat(s.state()).isEqualTo('S');
        assertThat(s.utime()).isEqualTo(1517);
        assertThat(s.stime()).isEqualTo(283);
        assertThat(s.cutime()).isEqualTo(41);
        assertThat(s.cstime()).isEqualTo(7);
        assertThat(s.startTime()).isEqualTo(98765);
        assertThat(s.cpuTicks()).isEqualTo(1800);
        assertThat(s.childrenCpuTicks()).isEqualTo(48);
    }

    @Test
    void aNameThatLooksLikeFieldsIsStillOneName() {
        ProcStat s = ProcStat.parse(LINE.replace("(java (x) y)", "(a) R 9 9 9 (b)"));
        assertThat(s.comm()).isEqualTo("a) R 9 9 9 (b");
        assertThat(s.state()).isEqualTo('S');
        assertThat(s.utime()).isEqualTo(1517);
    }

    @Test
    void whatIsNotAStatLineIsRefused() {
        assertThatThrownBy(() -> ProcStat.parse("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ProcStat.parse("1234 (java) S 1 2 3")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ProcStat.parse(LINE.replace(" 1517 ", " x "))).isInstanceOf(
                IllegalArgumentException.class);
    }

    @Test
    void thisJvmsOwnLineReadsAndAGoneProcessIsEmpty() {
        long self = ProcessHandle.current().pid();
        ProcStat s = ProcStat.read(self).orElseThrow();
        assertThat(s.pid()).isEqualTo(self);
        assertThat(s.state()).isIn('R', 'S');
        assertThat(s.cpuTicks()).isPositive(); // this JVM has compiled and loaded classes by now
        assertThat(ProcStat.read(-1)).isEmpty();
        assertThat(ProcStat.read(Integer.MAX_VALUE)).isEmpty(); // above pid_max
    }
}
