package dev.spillway.relay.spill;

import dev.spillway.relay.Message;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Encodes and validates spill records. The byte layout is documented on {@link SpillLog}.
 *
 * <p>Stateless; thread-safe.
 */
final class RecordCodec {

    /** Length and CRC fields in front of every record body. */
    static final int PREFIX_BYTES = 8;
    /** index (8) + instance (8) + sequence (8) + op (1) + key length (2). */
    static final int FIXED_BODY_BYTES = 27;
    static final int MAX_KEY_BYTES = 0xFFFF;
    /** Set in the list-op byte of every record of a request but its last (format version 2). */
    static final int CONTINUED_FLAG = 0x80;
    private static final int OP_OFFSET = PREFIX_BYTES + 24;

    private RecordCodec() {}

    static int encodedSize(Message message) {
        return PREFIX_BYTES + FIXED_BODY_BYTES + message.key().length + message.value().length;
    }

    /**
     * Writes one record at {@code dst}'s position and advances it; {@code continued} marks a
     * record that another record of the same request follows.
     */
    static void encode(long index, Message m, boolean continued, ByteBuffer dst) {
        int bodyLength = FIXED_BODY_BYTES + m.key().length + m.value().length;
        int start = dst.position();
        dst.putInt(bodyLength);
        dst.putInt(0); // CRC, patched below once the body is in place
        int bodyStart = dst.position();
        dst.putLong(index);
        dst.putLong(m.instance());
        dst.putLong(m.sequence());
        dst.put((byte) (m.op().code() | (continued ? CONTINUED_FLAG : 0)));
        dst.putShort((short) m.key().length);
        dst.put(m.key());
        dst.put(m.value());
        CRC32C crc = new CRC32C();
        crc.update(dst.duplicate().position(bodyStart).limit(dst.position()));
        dst.putInt(start + 4, (int) crc.getValue());
    }

    /**
     * Decodes the record body found at {@code buf}'s position whose prefix has already been
     * checked by {@link #check}. Advances the position past the record.
     */
    static SpilledMessage decode(ByteBuffer buf) {
        int bodyLength = buf.getInt();
        buf.getInt();
        long index = buf.getLong();
        long instance = buf.getLong();
        long sequence = buf.getLong();
        Message.ListOp op = Message.ListOp.fromCode((byte) (buf.get() & 0x7F));
        int keyLength = Short.toUnsignedInt(buf.getShort());
        byte[] key = new byte[keyLength];
        buf.get(key);
        byte[] value = new byte[bodyLength - FIXED_BODY_BYTES - keyLength];
        buf.get(value);
        return new SpilledMessage(index, new Message(instance, sequence, op, key, value),
                PREFIX_BYTES + bodyLength);
    }

    /** The outcome of looking at the bytes where a record should start. */
    enum Check {
        /** A whole, valid record with the expected index. */
        VALID,
        /** Fewer bytes than the record needs: more may follow (reader) or a torn tail (recovery). */
        INCOMPLETE,
        /** The bytes cannot be the expected record. */
        CORRUPT
    }

    /**
     * Checks the record at {@code buf}'s position without moving it: the length is plausible,
     * the whole record is present, the CRC matches and the record carries {@code expectedIndex}.
     */
    static Check check(ByteBuffer buf, long expectedIndex, int maxRecordBytes) {
        int pos = buf.position();
        if (buf.remaining() < PREFIX_BYTES) {
            return Check.INCOMPLETE;
        }
        int bodyLength = buf.getInt(pos);
        if (bodyLength < FIXED_BODY_BYTES || bodyLength > maxRecordBytes - PREFIX_BYTES) {
            return Check.CORRUPT;
        }
        if (buf.remaining() < PREFIX_BYTES + bodyLength) {
            return Check.INCOMPLETE;
        }
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate().position(pos + PREFIX_BYTES).limit(pos + PREFIX_BYTES + bodyLength));
        if ((int) crc.getValue() != buf.getInt(pos + 4)) {
            return Check.CORRUPT;
        }
        long index = buf.getLong(pos + PREFIX_BYTES);
        int op = buf.get(pos + OP_OFFSET) & 0x7F;
        int keyLength = Short.toUnsignedInt(buf.getShort(pos + PREFIX_BYTES + 25));
        if (index != expectedIndex || (op != 0 && op != 1)
                || keyLength > bodyLength - FIXED_BODY_BYTES) {
            return Check.CORRUPT;
        }
        return Check.VALID;
    }

    /**
     * True when the record at {@code buf}'s position is not the last of its request; only
     * meaningful after {@link Check#VALID}.
     */
    static boolean continued(ByteBuffer buf) {
        return (buf.get(buf.position() + OP_OFFSET) & CONTINUED_FLAG) != 0;
    }

    /** Length of the record at {@code buf}'s position; only meaningful after {@link Check#VALID}. */
    static int recordSize(ByteBuffer buf) {
        return PREFIX_BYTES + buf.getInt(buf.position());
    }
}
