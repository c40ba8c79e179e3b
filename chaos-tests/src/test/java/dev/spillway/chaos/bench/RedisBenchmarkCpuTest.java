package dev.spillway.chaos.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.spillway.chaos.topology.SentinelGroup;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short bench run of real {@code redis-benchmark} against a real Sentinel group: every row
 * carries the CPU time per acknowledged message of the master, each replica, each Sentinel and
 * redis-benchmark itself, in the printed table and in the JSON.
 */
class RedisBenchmarkCpuTest {

    private static final int REQUESTS = 20_000;

    @Test
    void everyRowHasEveryProcesssCpuPerMessageInTheTableAndTheJson(@TempDir Path tmp) throws Exception {
        try (SentinelGroup group = SentinelGroup.start(tmp.resolve("group"), SentinelGroup.Options.forTests())) {
            int master = group.awaitHealthy(Duration.ofSeconds(30)).port();
            CpuAccounting cpu = CpuAccounting.of(group, List.of(), null);
            List<BenchRow> rows = new RedisBenchmarkScenario(group, List.of(
                    new RedisBenchmarkScenario.Target("master (direct)", master, BenchRow.Role.DIRECT)),
                    REQUESTS, 1, cpu).run();

            assertThat(rows).hasSize(2); // unpipelined and -P 32
            for (BenchRow row : rows) {
                CpuUse c = row.cpu();
                assertThat(c).as(row.test()).isNotNull();
                assertThat(c.messages()).isIn((long) REQUESTS, REQUESTS * 5L);
                assertThat(c.processes()).extracting(CpuUse.Process::role).containsExactly("master", "replica",
                        "replica", "sentinel", "sentinel", "sentinel", "load generator");
                CpuUse.Process m = c.processes().get(0);
                assertThat(m.ticks()).as("the master's CPU in %s", row.test()).isPositive();
                assertThat(m.microsPerMessage()).isBetween(0.1, 1_000.0);
                CpuUse.Process gen = c.processes().get(6);
                assertThat(gen.name()).isEqualTo("redis-benchmark");
                assertThat(gen.ticks()).as("redis-benchmark's CPU in %s", row.test()).isPositive();
                assertThat(c.processes()).allSatisfy(p -> assertThat(p.partial()).isEmpty());
                assertThat(c.totalMicrosPerMessage()).isGreaterThanOrEqualTo(m.microsPerMessage() + gen.microsPerMessage());
            }

            ResultsTable table = new ResultsTable();
            table.addAll(rows);
            String printed = printed(table);
            assertThat(printed).contains("CPU per acknowledged message");
            for (BenchRow row : rows) {
                assertThat(printed).containsPattern(row.test().replace("-", "\\-") + " +master \\(direct\\) +"
                        + String.format("%.1f", row.cpu().processes().get(0).microsPerMessage()).replace(".", "\\.")
                        + " +\\S+ \\+ \\S+ .* " + String.format("%.1f", row.cpu().totalMicrosPerMessage())
                        .replace(".", "\\."));
            }

            ObjectMapper json = new ObjectMapper();
            JsonNode out = json.readTree(json.writeValueAsString(table.toJson()));
            for (JsonNode row : out.get("rows")) {
                JsonNode c = row.get("cpu");
                assertThat(c.get("clockTicksPerSecond").asLong()).isEqualTo(CpuAccounting.clockTicksPerSecond());
                assertThat(c.get("processes")).hasSize(7);
                assertThat(c.get("processes").get(0).get("role").asText()).isEqualTo("master");
                assertThat(c.get("processes").get(0).get("microsPerMessage").asDouble()).isPositive();
                assertThat(c.get("totalMicrosPerMessage").asDouble()).isPositive();
            }
        }
    }

    private static String printed(ResultsTable table) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        table.print(new PrintStream(buf, true, StandardCharsets.UTF_8));
        return buf.toString(StandardCharsets.UTF_8);
    }
}
