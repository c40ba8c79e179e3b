package dev.spillway.relay.spill;

/** The spill writer cannot go on: the log's files are in a state it cannot vouch for. */
final class WriterStopped extends RuntimeException {
    WriterStopped(Throwable cause) {
        super(cause);
    }
}
