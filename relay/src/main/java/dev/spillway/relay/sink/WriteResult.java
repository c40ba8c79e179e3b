package dev.spillway.relay.sink;

/** Outcome of one acknowledged batch: messages pushed, and messages skipped as already applied. */
public record WriteResult(int applied, int skipped) {}
