package dev.spillway.relay.route;

import dev.spillway.relay.Message;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Where ingress hands messages: what listeners need of the {@link Router}. */
public interface Intake {

    /**
     * Accepts {@code values} for {@code key}, in order; completes when all are durable, or
     * exceptionally with a {@link RelayRejectedException} naming the reason.
     */
    CompletableFuture<Void> submit(Message.ListOp op, byte[] key, List<byte[]> values);
}
