package dev.spillway.relay.ingress;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.relay.route.RelayRejectedException;
import org.junit.jupiter.api.Test;

class RejectionsTest {

    @Test
    void recognisesARedisErrorCodeAsTheFirstUpperCaseWord() {
        assertThat(Rejections.startsWithErrorCode("WRONGTYPE Operation against a key")).isTrue();
        assertThat(Rejections.startsWithErrorCode("OOM")).isTrue();
        assertThat(Rejections.startsWithErrorCode("NOREPLICAS Not enough good replicas")).isTrue();
        assertThat(Rejections.startsWithErrorCode("spill log full")).isFalse();
        assertThat(Rejections.startsWithErrorCode("Wrongtype operation")).isFalse();
        assertThat(Rejections.startsWithErrorCode("I/O error")).isFalse();
        assertThat(Rejections.startsWithErrorCode(" WRONGTYPE")).isFalse();
        assertThat(Rejections.startsWithErrorCode("")).isFalse();
    }

    @Test
    void aRedisRefusalIsNeitherBusyNorRewordedAndAlwaysNamesAReason() {
        RelayRejectedException wrongType = new RelayRejectedException(RelayRejectedException.Reason.REDIS_REFUSED,
                "WRONGTYPE Operation against a key holding the wrong kind of value", null);
        assertThat(Rejections.isBusy(wrongType)).isFalse();
        assertThat(Rejections.isRedisRefusal(wrongType)).isTrue();
        assertThat(Rejections.describe(wrongType)).isEqualTo(wrongType.getMessage());
        assertThat(Rejections.describe(new RelayRejectedException(RelayRejectedException.Reason.REDIS_REFUSED, null,
                null))).isEqualTo("Redis refused the message");
        assertThat(Rejections.isRedisRefusal(new RelayRejectedException(RelayRejectedException.Reason.SPILL_FULL, "x",
                null))).isFalse();
    }
}
