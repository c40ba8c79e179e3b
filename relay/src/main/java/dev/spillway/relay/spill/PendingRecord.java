package dev.spillway.relay.spill;

import dev.spillway.relay.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One record appended and waiting for the fsync that covers it. */
final class PendingRecord {
    final Message message;
    final int size;
    /** Bytes of this record's whole request when this is its first record, else 0. */
    final long requestBytes;
    /** True for the last record of its request. */
    final boolean last;
    final CompletableFuture<Long> future = new CompletableFuture<>();
    /** Assigned by the writer. */
    long index;

    /**
     * The records of one request, checked against the log's limits: each record within
     * {@code maxRecordBytes}, the whole request within one segment.
     *
     * @throws SpillException naming the limit a message or the request exceeds
     */
    static List<PendingRecord> request(List<Message> messages, SpillLogConfig config) {
        long total = 0;
        int[] sizes = new int[messages.size()];
        for (int i = 0; i < sizes.length; i++) {
            Message message = messages.get(i);
            int size = RecordCodec.encodedSize(message);
            if (size > config.maxRecordBytes() || message.key().length > RecordCodec.MAX_KEY_BYTES) {
                throw new SpillException("message of " + size + " bytes (key " + message.key().length
                        + ") exceeds the spill record limit of " + config.maxRecordBytes() + " bytes (key 65535)");
            }
            sizes[i] = size;
            total += size;
        }
        if (total > config.segmentBytes() - SegmentFile.HEADER_BYTES) {
            throw new SpillException("request of " + messages.size() + " messages (" + total
                    + " bytes in the spill) exceeds one spill segment (spill.segmentBytes " + config.segmentBytes() + ")");
        }
        List<PendingRecord> records = new ArrayList<>(sizes.length);
        for (int i = 0; i < sizes.length; i++) {
            records.add(new PendingRecord(messages.get(i), sizes[i], i == 0 ? total : 0, i == sizes.length - 1));
        }
        return records;
    }

    PendingRecord(Message message, int size, long requestBytes, boolean last) {
        this.message = message;
        this.size = size;
        this.requestBytes = requestBytes;
        this.last = last;
    }
}
