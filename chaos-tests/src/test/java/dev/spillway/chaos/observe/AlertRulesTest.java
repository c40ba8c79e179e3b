package dev.spillway.chaos.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped alert rules and scrape configuration, checked by Prometheus' own {@code promtool}
 * (Debian's {@code prometheus} package, installed by {@code ./spillway test}): syntax, and the
 * unit tests of {@code deploy/prometheus/tests} — each alert fires where it should and not
 * where it should not.
 */
class AlertRulesTest {

    static final Path DIR = Path.of("..", "deploy", "prometheus").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    @Test
    void rulesAndConfigPassPromtoolCheck() throws Exception {
        assertThat(promtool(DIR, "check", "rules", "spillway-alerts.yml")).contains("SUCCESS: 10 rules found");
        assertThat(promtool(DIR, "check", "config", "prometheus.yml")).contains("is valid prometheus config file");
    }

    @Test
    void everyAlertFiresWhereItShouldAndOnlyThere() throws Exception {
        String out = promtool(DIR, "test", "rules", "tests/spillway-alerts.test.yml");
        assertThat(out).contains("SUCCESS");
    }

    @Test
    void theRuleTestsCanFail() throws Exception {
        // the same tests against rules whose spill threshold moved: promtool must report it
        Path rules = tmp.resolve("spillway-alerts.yml");
        Files.writeString(rules, Files.readString(DIR.resolve("spillway-alerts.yml"))
                .replace("spillway_spill_max_bytes > 50", "spillway_spill_max_bytes > 70"));
        Files.createDirectories(tmp.resolve("tests"));
        Files.copy(DIR.resolve("tests/spillway-alerts.test.yml"), tmp.resolve("tests/spillway-alerts.test.yml"));
        Process p = start(tmp, "test", "rules", "tests/spillway-alerts.test.yml");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isNotZero();
        assertThat(out).contains("SpillwaySpillHalfFull");
    }

    private static String promtool(Path dir, String... args) throws IOException, InterruptedException {
        Process p = start(dir, args);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("promtool %s:%n%s", String.join(" ", args), out).isZero();
        return out;
    }

    private static Process start(Path dir, String... args) throws IOException {
        List<String> cmd = new java.util.ArrayList<>(List.of("promtool"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    }
}
