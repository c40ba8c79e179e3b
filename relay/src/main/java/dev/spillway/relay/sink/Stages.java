package dev.spillway.relay.sink;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/** Waiting for a write's stage, for the blocking {@code write} methods. Stateless. */
final class Stages {

    private Stages() {}

    /**
     * The stage's result once it completes; its failure rethrown as it was raised (a
     * {@link RuntimeException} unwrapped from the {@link CompletionException}).
     */
    static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }
}
