package dev.spillway.relay.sink;

import dev.spillway.relay.Message;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The Lua script every batch runs on the master — atomically: the high-water-mark check, the
 * pushes, the refusals and dead letters, the run-id fence, the replica count — and the layout of
 * its arguments. {@link RedisSink} sends it; {@link Preflight} runs it once at start.
 */
final class WriteScript {

    /**
     * KEYS[1] the incarnation's high-water mark, KEYS[2] the dead-letter list. ARGV[1] the mark's
     * TTL in seconds; ARGV[2] the run id of the master the Sentinels name ('' = no check);
     * ARGV[3] 'd' for direct writes (not yet acknowledged: a refused run stops the script and is
     * reported) or 'r' for replay (acknowledged: a refused run goes to the dead-letter list);
     * ARGV[4] the relay's name for dead-letter entries; ARGV[5] '1' to count the master's online
     * replicas; ARGV[6] the number of runs; then per run: op, key, count n, first sequence, and
     * n values. A run is a stretch of messages for one key and op with consecutive sequences, so
     * the already-applied ones are a prefix of it, and the rest go out in one RPUSH/LPUSH (in
     * chunks, below Lua's stack limit).
     *
     * <p>Returns {applied, skipped, dead-lettered, online replicas (-1 = not counted)}, and for a
     * refused run in a direct write also {first refused sequence, count, error}.
     *
     * <p>The mark always equals the last sequence applied (or dead-lettered): every write is a
     * {@code pcall}, and on an error the mark is stored for what was done before the error is
     * returned, so a replay of the batch never pushes a message twice. (Redis 7 does not refuse
     * later writes of a script for OOM once its first write has succeeded.) Errors are sorted:
     * those about Redis's state (OOM, NOREPLICAS, READONLY, MISCONF, BUSY, LOADING, MASTERDOWN,
     * TRYAGAIN, NOSCRIPT) fail the batch — it is spilled and retried; any other error of a run's
     * key — WRONGTYPE found by checking the key's type before the push, an ACL user's NOPERM —
     * is about the message, and a retry cannot fix it: the run is refused (direct) or
     * dead-lettered (replay), and the messages behind it are not held back.
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
            if ARGV[2] ~= '' then
              local id = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
              if id ~= ARGV[2] then
                return redis.error_reply('SPILLWAY-FENCE this node (run id ' .. tostring(id)
                  .. ') is not the master the Sentinels name (run id ' .. ARGV[2] .. ')')
              end
            end
            local online = -1
            if ARGV[5] == '1' then
              online = 0
              for _ in string.gmatch(redis.call('INFO', 'replication'), 'slave%d+:[^\\r\\n]*state=online') do
                online = online + 1
              end
            end
            local g = redis.pcall('GET', KEYS[1])
            if type(g) == 'table' and g['err'] then
              return redis.error_reply('SPILLWAY-MARK high-water mark ' .. KEYS[1] .. ': ' .. g['err'])
            end
            local hw = tonumber(g or '-1')
            local applied, skipped, dead = 0, 0, 0
            local i = 7
            for _ = 1, tonumber(ARGV[6]) do
              local op, key, n, first = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
              local skip = math.min(n, math.max(0, hw - first + 1))
              local from, to = i + 4 + skip, i + 3 + n
              if from <= to then
                local err = nil
                local t = redis.pcall('TYPE', key)
                if type(t) == 'table' and t['err'] then
                  err = t['err']
                elseif t['ok'] ~= 'none' and t['ok'] ~= 'list' then
                  err = 'WRONGTYPE Operation against a key holding the wrong kind of value'
                end
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
                  if ARGV[3] == 'd' then
                    redis.pcall('SET', KEYS[1], hw, 'EX', ARGV[1])
                    return {applied, skipped, dead, online, first + from - (i + 4), to - from + 1, err}
                  end
                  local now = redis.call('TIME')
                  local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
                  for k = from, to do
                    local entry = cjson.encode({key = key, op = op, value = ARGV[k], error = err,
                      relay = ARGV[4], sequence = first + k - (i + 4), time = ms})
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
            return {applied, skipped, dead, online}
            """;

    /** The script's SHA-1, as {@code EVALSHA} names it. */
    static final String SHA1 = sha1Hex(TEXT);

    private static final byte[] RPUSH = "RPUSH".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LPUSH = "LPUSH".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] DIRECT = {'d'};
    private static final byte[] REPLAY = {'r'};
    private static final byte[] ONE = {'1'};
    private static final byte[] ZERO = {'0'};

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

    /** The script's arguments for {@code batch[from, to)}, all of one incarnation; see {@link #TEXT}. */
    Object[] args(List<Message> batch, int from, int to, byte[] runId, boolean replay,
            boolean countOnline) {
        List<Object> args = new ArrayList<>(5 + 5 * (to - from));
        args.add(ttlSeconds);
        args.add(runId);
        args.add(replay ? REPLAY : DIRECT);
        args.add(relayName);
        args.add(countOnline ? ONE : ZERO);
        args.add(null); // the number of runs, filled in below
        int runCount = 0;
        int r = from;
        while (r < to) {
            Message first = batch.get(r);
            int e = r + 1;
            while (e < to && batch.get(e).op() == first.op() && Arrays.equals(batch.get(e).key(), first.key())
                    && batch.get(e).sequence() == first.sequence() + (e - r)) {
                e++;
            }
            args.add(first.op() == Message.ListOp.RPUSH ? RPUSH : LPUSH);
            args.add(first.key());
            args.add(ascii(e - r));
            args.add(ascii(first.sequence()));
            for (int k = r; k < e; k++) {
                args.add(batch.get(k).value());
            }
            runCount++;
            r = e;
        }
        args.set(5, ascii(runCount));
        return args.toArray();
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
