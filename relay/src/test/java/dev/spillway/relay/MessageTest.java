package dev.spillway.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNullPointerException;

import org.junit.jupiter.api.Test;

class MessageTest {

    @Test
    void takesAnEmptyKeyAndAnEmptyValueAsRedisDoes() {
        Message m = new Message(1, 2, Message.ListOp.RPUSH, new byte[0], new byte[0]);
        assertThat(m.key()).isEmpty();
        assertThat(m.value()).isEmpty();
        assertThat(m.keyString()).isEmpty();
        assertThat(m).isEqualTo(new Message(1, 2, Message.ListOp.RPUSH, new byte[0], new byte[0]));
    }

    @Test
    void refusesAMissingOpKeyOrValue() {
        assertThatNullPointerException().isThrownBy(() -> new Message(1, 2, null, new byte[0], new byte[0]))
                .withMessage("op");
        assertThatNullPointerException().isThrownBy(() -> new Message(1, 2, Message.ListOp.RPUSH, null, new byte[0]))
                .withMessage("key");
        assertThatNullPointerException().isThrownBy(() -> new Message(1, 2, Message.ListOp.LPUSH, new byte[0], null))
                .withMessage("value");
    }
}
