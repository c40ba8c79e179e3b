package dev.spillway.relay.spill;

import java.nio.file.Path;

/**
 * The disk holding the spill log has no room: appends are refused until the replayer has freed
 * space (or the operator has). Nothing already in the log is touched, and replay goes on.
 */
public final class SpillDiskFullException extends SpillException {

    public SpillDiskFullException(Path directory, Throwable cause) {
        super("spill disk full: no space left on the file system of " + directory
                + "; replay goes on and messages are taken again once there is room", cause);
    }
}
