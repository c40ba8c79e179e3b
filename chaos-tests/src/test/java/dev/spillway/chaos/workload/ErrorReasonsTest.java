package dev.spillway.chaos.workload;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * How a workload counts its producers' errors: by protocol and reply, the value left out and
 * numbers but an HTTP status written N; refusals apart from outcomes that stayed unknown, and
 * errors outside faults apart. No producer is started: errors are recorded by hand.
 */
class ErrorReasonsTest {

    private static Workload workload() {
        return Workload.of("127.0.0.1", 1, 2, 3, "q", 1, 10, 0).prefix("run:");
    }

    private static Producer byProtocol(Workload w, String protocol) {
        return w.producers().stream().filter(p -> p.protocol().equals(protocol)).findFirst().orElseThrow();
    }

    @Test
    void errorsAreCountedByProtocolAndReplyWithoutValuesOrByteCounts() {
        Workload w = workload();
        Producer resp = byProtocol(w, "resp");
        Producer http = byProtocol(w, "http");
        resp.phase(Producer.Phase.FAULT);
        http.phase(Producer.Phase.FAULT);
        resp.refused(7, "run:p0-7: BUSY spill disk full: 4096 bytes free");
        resp.refused(8, "run:p0-8: BUSY spill disk full: 12 bytes free");
        http.refused(3, "run:p2-3: 503 {\"error\":\"spill disk full: 0 bytes free\"}");
        resp.error("run:p0-9: no reply after 601 attempts: java.io.EOFException");

        Map<String, Long> reasons = w.errorReasons(10);
        assertThat(reasons).containsExactly(
                Map.entry("resp BUSY spill disk full: N bytes free", 2L),
                Map.entry("http 503 {\"error\":\"spill disk full: N bytes free\"}", 1L),
                Map.entry("resp no reply after N attempts: java.io.EOFException", 1L));
        assertThat(w.refusedCount()).as("the unknown outcome is not a refusal").isEqualTo(3);
        assertThat(w.refused().get(resp.id())).containsExactlyInAnyOrder(7L, 8L);
        assertThat(w.errorsOutsideFaults()).isEmpty();
    }

    @Test
    void errorsOutsideFaultsAreKeptApartAndReasonsBeyondTheLimitAreCountedTogether() {
        Workload w = workload();
        Producer line = byProtocol(w, "line");
        line.refused(1, "run:p1-1: ERR shutting down");
        line.phase(Producer.Phase.FAULT);
        line.refused(2, "run:p1-2: ERR spill disk full");
        line.refused(3, "run:p1-3: ERR spill disk full");
        line.phase(Producer.Phase.RECOVERY);
        line.refused(4, "run:p1-4: ERR something else");

        assertThat(w.errorsOutsideFaults()).containsExactly("line run:p1-1: ERR shutting down",
                "line run:p1-4: ERR something else");
        assertThat(w.errorReasons(1)).containsExactly(Map.entry("line ERR spill disk full", 2L),
                Map.entry("(2 other reasons)", 2L));
        assertThat(w.errors()).hasSize(4);
        assertThat(List.copyOf(w.errorReasons(10).keySet())).hasSize(3);
    }
}
