package dev.spillway.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.config.ConfigLoader;
import dev.spillway.relay.config.RelayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A spill log left in ./spill (the old default) is not silently abandoned by a relay at the new default. */
class StrandedSpillTest {

    @TempDir
    Path work;

    @Test
    void aSpillLogInTheOldDefaultPlaceStopsARelayAtTheNewDefault() throws Exception {
        RelayConfig atDefault = ConfigLoader.load(null, Map.of());
        assertThat(ServeCommand.strandedSpill(atDefault, work)).as("no ./spill").isEmpty();
        Files.createDirectories(work.resolve("spill"));
        Files.writeString(work.resolve("spill/cursor"), "");
        assertThat(ServeCommand.strandedSpill(atDefault, work)).as("no segment in it").isEmpty();
        Files.write(work.resolve("spill/00000000000000000000.seg"), new byte[16]);
        assertThat(ServeCommand.strandedSpill(atDefault, work)).hasValueSatisfying(m -> assertThat(m)
                .contains(work.resolve("spill") + " holds a spill log (1 segment file(s))")
                .contains("Set spill.dir: " + work.resolve("spill")));
        RelayConfig elsewhere = ConfigLoader.load(null, Map.of("SPILLWAY_SPILL_DIR", work.resolve("other").toString()));
        assertThat(ServeCommand.strandedSpill(elsewhere, work)).as("spill.dir chosen by the operator").isEmpty();
    }
}
