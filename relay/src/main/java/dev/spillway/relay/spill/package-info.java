/**
 * The spill log: a bounded, append-only, crash-safe local log of acknowledged messages that wait
 * for Redis ({@link dev.spillway.relay.spill.SpillLog}).
 *
 * <h2>On-disk format (version 2)</h2>
 * A directory holds segment files named by the index of their first record
 * ({@code 00000000000000000000.seg}), a {@code cursor} file, a {@code lock} file, a
 * {@code reserve} file (see "A full disk" below) and nothing
 * else that matters ({@code *.tmp} files are leftovers of an interrupted create and are deleted
 * on open). Every number is big-endian.
 * <pre>
 * Segment header
 * offset size field
 *  0     4    magic "SPIL" (0x5350494C)
 *  4     2    format version (2; version 1 segments are read too)
 *  6     2    reserved (0)
 *  8     8    base index: the index of the segment's first record; equals the file name
 * 16     4    CRC32C of bytes 0..15
 *
 * Record (repeated to the end of the segment)
 * offset size field
 *  0     4    body length L (bytes after the CRC field; 27 + key + value)
 *  4     4    CRC32C of the L body bytes
 *  8     8    index: position in the log, exactly one more than the previous record's
 * 16     8    instance: the relay incarnation that assigned the message id
 * 24     8    sequence: the message id within that incarnation
 * 32     1    list op: 0 = RPUSH, 1 = LPUSH; bit 0x80 set on every record of a request but its
 *             last (version 2), so recovery can cut a request a crash left half written
 * 33     2    key length K (1..65535)
 * 35     K    key
 * 35+K   V    value (V = L - 27 - K)
 * </pre>
 *
 * Version 1 differs only in the header's version field and in never setting bit 0x80; this
 * release reads both and writes version 2, which older releases cannot read.
 *
 * <h2>Commit order</h2>
 * Records are written by one thread ({@link dev.spillway.relay.spill.GroupCommitWriter}), a request at a time and never
 * split over two fsyncs or two segments; after fsync the durable position is published and
 * only then are appenders' futures completed. The replay cursor never reads a byte past the
 * published position, so it never holds data that a failed fsync may take back. A segment is closed with
 * an fsync before the next one is created (temp file, fsync, atomic rename, directory fsync),
 * so a later segment never exists without every earlier record being durable. The replay
 * position is stored the same way (see {@link dev.spillway.relay.spill.CursorFile}). On open, {@link dev.spillway.relay.spill.LogRecovery} scans
 * every segment, truncates at the first record whose length, CRC or index does not check out
 * (and at the start of a request it finds incomplete), and reports what it dropped.
 *
 * <h2>A full disk</h2>
 * At open the log writes {@code reserve} ({@link dev.spillway.relay.spill.SpillLogConfig#reserveBytes} bytes). When a
 * write finds the disk full, the log enters its disk-full state: it deletes the reserve, fails
 * the requests that were not yet durable and refuses new appends at once with
 * {@link dev.spillway.relay.spill.SpillDiskFullException}. Replay goes on: committing the cursor overwrites it in place
 * (no new block), replayed segments are deleted, and once everything is replayed the writer
 * starts a fresh segment (in the reserve's room) so that the last one can go too. The log leaves
 * the state when it could write the reserve again and as much room again is free.
 *
 * <h2>Bounds</h2>
 * The bytes of records appended but not yet committed never exceed {@code maxBytes}; an append
 * that would pass it fails at once with {@link dev.spillway.relay.spill.SpillFullException}. Disk use can exceed it by
 * up to one segment of already-replayed records (the active segment is deleted only once a
 * newer one exists).
 *
 * <p>The cursor file's layout is on {@link dev.spillway.relay.spill.CursorFile}, the lock file's
 * on {@link dev.spillway.relay.spill.DirectoryLock}; the reserve file is zeros
 * ({@link dev.spillway.relay.spill.DiskSpace}).
 */
package dev.spillway.relay.spill;
