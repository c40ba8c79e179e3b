package dev.spillway.relay.sink;

import dev.spillway.relay.Message;
import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The Lua script every batch runs on the master — atomically: the high-water-mark check, the
 * pushes, the refusals and dead letters — and the layout of its arguments, written straight into
 * the batch's request. {@link RedisSink} sends it; {@link Preflight} runs it once at start.
 *
 * <p>What the script does not do: ask which node it runs on or how many replicas follow it.
 * Both were {@code INFO} calls inside every batch, about a third of the script's time on the
 * master. The node is proven once per connection ({@link MasterLink}); the replicas are counted
 * by {@code ROLE} right after the batch's {@code WAIT} ({@link RedisSink}).
 */
final class WriteScript {

    /**
     * KEYS[1] the incarnation's high-water mark, KEYS[2] the dead-letter list. ARGV[1] the mark's
     * TTL in seconds; ARGV[2] 'd' for direct writes (not yet acknowledged: a refused run stops
     * the script and is reported) or 'r' for replay (acknowledged: a refused run goes to the
     * dead-letter list); ARGV[3] the relay's name for dead-letter entries; ARGV[4] the number of
     * runs; then per run: op, key, count n, first sequence, and n values. A run is a stretch of
     * messages for one key and op with consecutive sequences, so the already-applied ones are a
     * prefix of it, and the rest go out in one RPUSH/LPUSH (in chunks, below Lua's stack limit).
     *
     * <p>Returns {applied, skipped, dead-lettered}, and for a refused run in a direct write also
     * {first refused sequence, count, error}.
     *
     * <p>The mark always equals the last sequence applied (or dead-lettered): every write is a
     * {@code pcall}, and on an error the mark is stored for what was done before the error is
     * returned, so a replay of the batch never pushes a message twice. (Redis 7 does not refuse
     * later writes of a script for OOM once its first write has succeeded.) Errors are sorted:
     * those about Redis's state (OOM, NOREPLICAS, READONLY, MISCONF, BUSY, LOADING, MASTERDOWN,
     * TRYAGAIN, NOSCRIPT) fail the batch — it is spilled and retried; any other error of a run's
     * key — WRONGTYPE (a push onto a key of another type changes nothing and says so), an ACL
     * user's NOPERM — is about the message, and a retry cannot fix it: the run is refused (direct)
     * or dead-lettered (replay), and the messages behind it are not held back.
     */
    static final String TEXT = """
            local function fail(hw, err)
              redis.pcall('SET', KEYS[1], hw, 'EX', ARGV[1])
              return redis.error_reply(err)
            end
            local function transient(err)
              for _, p in ipairs({'OOM', 'NOREPLICAS', 'READONLY', 'MISCONF', 'BUSY', 'LOADING', 'MASTERDOWN',
                  'TRYAGAIN', 'NOSCRIPT', 'CLUSTERDOWN'}) do
                if string.sub(err, 1, #p) == p then return true end
              end
              return false
            end
            local g = redis.pcall('GET', KEYS[1])
            if type(g) == 'table' and g['err'] then
              return redis.error_reply('SPILLWAY-MARK high-water mark ' .. KEYS[1] .. ': ' .. g['err'])
            end
            local hw = tonumber(g or '-1')
            local applied, skipped, dead = 0, 0, 0
            local i = 5
            for _ = 1, tonumber(ARGV[4]) do
              local op, key, n, first = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
              local skip = math.min(n, math.max(0, hw - first + 1))
              local from, to = i + 4 + skip, i + 3 + n
              if from <= to then
                local err = nil
                while err == nil and from <= to do
                  local last = math.min(to, from + 999)
                  local r = redis.pcall(op, key, unpack(ARGV, from, last))
                  if type(r) == 'table' and r['err'] then
                    if transient(r['err']) then
                      return fail(hw, r['err'])
                    end
                    err = r['err']
                  else
                    applied = applied + last - from + 1
                    hw = first + last - (i + 4)
                    from = last + 1
                  end
                end
                if err ~= nil then
                  if ARGV[2] == 'd' then
                    redis.pcall('SET', KEYS[1], hw, 'EX', ARGV[1])
                    return {applied, skipped, dead, first + from - (i + 4), to - from + 1, err}
                  end
                  local now = redis.call('TIME')
                  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
                  for k = from, to do
                    local entry = cjson.encode({key = key, op = op, value = ARGV[k], error = err,
                      relay = ARGV[3], sequence = first + k - (i + 4), time = ms})
                    local r = redis.pcall('RPUSH', KEYS[2], entry)
                    if type(r) == 'table' and r['err'] then
                      return fail(hw, 'SPILLWAY-DEAD-LETTER cannot push to ' .. KEYS[2] .. ': ' .. r['err'])
                    end
                    hw = first + k - (i + 4)
                    dead = dead + 1
                  end
                end
              end
              skipped = skipped + skip
              hw = math.max(hw, first + n - 1)
              i = i + 4 + n
            end
            redis.call('SET', KEYS[1], hw, 'EX', ARGV[1])
            return {applied, skipped, dead}
            """;

    /** The script's SHA-1, as {@code EVALSHA} names it. */
    static final String SHA1 = sha1Hex(TEXT);

    private static final byte[] RPUSH = "RPUSH".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LPUSH = "LPUSH".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DIRECT = {'d'};
    private static final byte[] REPLAY = {'r'};
    private static final byte[] EVAL = "EVAL".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVALSHA = "EVALSHA".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TWO = {'2'};
    private static final byte[] TEXT_BYTES = TEXT.getBytes(StandardCharsets.UTF_8);
    private static final byte[] SHA1_BYTES = SHA1.getBytes(StandardCharsets.US_ASCII);

    private final byte[] ttlSeconds;
    private final byte[] relayName;

    /**
     * @param dedupeTtl how long a high-water mark outlives its incarnation's last write
     * @param relayName names this relay in dead-letter entries
     */
    WriteScript(Duration dedupeTtl, String relayName) {
        this.ttlSeconds = ascii(dedupeTtl.toSeconds());
        this.relayName = relayName.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Writes the command that runs the script ({@code EVALSHA} by its digest, or {@code EVAL}
     * with its text) on {@code batch[from, to)}, all of one incarnation; see {@link #TEXT}.
     */
    void write(ByteBuf out, boolean byText, byte[] markKey, byte[] deadLetterKey, List<Message> batch, int from,
            int to, boolean replay) {
        int runs = 0;
        for (int r = from; r < to; r = runEnd(batch, r, to)) {
            runs++;
        }
        RespWriter.command(out, 3 + 2 + 4 + 4 * runs + (to - from));
        RespWriter.word(out, byText ? EVAL : EVALSHA);
        RespWriter.word(out, byText ? TEXT_BYTES : SHA1_BYTES);
        RespWriter.word(out, TWO);
        RespWriter.word(out, markKey);
        RespWriter.word(out, deadLetterKey);
        RespWriter.word(out, ttlSeconds);
        RespWriter.word(out, replay ? REPLAY : DIRECT);
        RespWriter.word(out, relayName);
        RespWriter.word(out, runs);
        for (int r = from; r < to; ) {
            int e = runEnd(batch, r, to);
            Message first = batch.get(r);
            RespWriter.word(out, first.op() == Message.ListOp.RPUSH ? RPUSH : LPUSH);
            RespWriter.word(out, first.key());
            RespWriter.word(out, e - r);
            RespWriter.word(out, first.sequence());
            for (int k = r; k < e; k++) {
                RespWriter.word(out, batch.get(k).value());
            }
            r = e;
        }
    }

    /** The bytes {@link #write} needs at most, to size the buffer once. */
    static int bytesAtMost(List<Message> batch, int from, int to, byte[] markKey, byte[] deadLetterKey) {
        int n = 64 + TEXT_BYTES.length + markKey.length + deadLetterKey.length;
        for (int k = from; k < to; k++) {
            Message m = batch.get(k);
            n += RespWriter.wordBytes(m.value().length) + RespWriter.wordBytes(m.key().length) + 40;
        }
        return n;
    }

    /** The end of the run that starts at {@code r}: same op, same key, consecutive sequences. */
    private static int runEnd(List<Message> batch, int r, int to) {
        Message first = batch.get(r);
        int e = r + 1;
        while (e < to && batch.get(e).op() == first.op() && Arrays.equals(batch.get(e).key(), first.key())
                && batch.get(e).sequence() == first.sequence() + (e - r)) {
            e++;
        }
        return e;
    }

    private static String sha1Hex(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is a required JDK algorithm", e);
        }
    }

    private static byte[] ascii(long v) {
        return Long.toString(v).getBytes(StandardCharsets.US_ASCII);
    }
}
