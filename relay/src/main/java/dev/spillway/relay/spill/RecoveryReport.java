package dev.spillway.relay.spill;

import java.util.List;

/**
 * What {@link SpillLog#open} had to repair. Empty when the log was closed cleanly or a previous
 * open already repaired it.
 */
public record RecoveryReport(List<String> actions, long bytesDropped, long recordsRecovered) {

    public boolean isClean() {
        return actions.isEmpty();
    }
}
