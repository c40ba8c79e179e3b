package dev.spillway.relay.spill;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * Opens the file channels the spill log writes and reads through. Production code uses
 * {@link #DEFAULT}; tests substitute channels that fail on command.
 */
@FunctionalInterface
public interface ChannelFactory {

    ChannelFactory DEFAULT = FileChannel::open;

    FileChannel open(Path path, OpenOption... options) throws IOException;
}
