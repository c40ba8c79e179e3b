package dev.spillway.relay.spill;

/**
 * What the replay cursor may read: records below {@code endIndex}, and of the segment at
 * {@code segmentBase} (the one being written), only bytes below {@code segmentBytes}. Published
 * by the writer after each fsync and roll.
 */
record DurablePosition(long endIndex, long segmentBase, long segmentBytes) {}
