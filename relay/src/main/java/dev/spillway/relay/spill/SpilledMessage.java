package dev.spillway.relay.spill;

import dev.spillway.relay.Message;

/**
 * A message read back from the spill log: its position ({@code index}) in the log and the
 * number of bytes it occupies on disk.
 */
public record SpilledMessage(long index, Message message, int encodedSize) {}
