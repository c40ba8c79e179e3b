package dev.spillway.relay.sink;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.RedisMessage;
import io.netty.handler.codec.redis.SimpleStringRedisMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The few RESP shapes the Sentinel connections and the run-id probe send and read. Stateless. */
final class SentinelResp {

    private SentinelResp() {}

    static ArrayRedisMessage command(String... words) {
        List<RedisMessage> parts = new ArrayList<>(words.length);
        for (String w : words) {
            parts.add(new FullBulkStringRedisMessage(Unpooled.copiedBuffer(w, StandardCharsets.UTF_8)));
        }
        return new ArrayRedisMessage(parts);
    }

    /** {@code AUTH password}, or {@code AUTH user password} for an ACL user; null when there is no password. */
    static ArrayRedisMessage auth(String user, String password) {
        if (password == null) {
            return null;
        }
        return user == null ? command("AUTH", password) : command("AUTH", user, password);
    }

    static String text(RedisMessage m) {
        if (m instanceof FullBulkStringRedisMessage b) {
            return b.isNull() ? null : b.content().toString(StandardCharsets.UTF_8);
        }
        if (m instanceof SimpleStringRedisMessage s) {
            return s.content();
        }
        return null;
    }

    /** A flat array of names and values ({@code SENTINEL MASTER}'s reply) as a map. */
    static Map<String, String> fields(RedisMessage m) {
        Map<String, String> f = new HashMap<>();
        if (m instanceof ArrayRedisMessage arr) {
            List<RedisMessage> c = arr.children();
            for (int i = 0; i + 1 < c.size(); i += 2) {
                f.put(text(c.get(i)), text(c.get(i + 1)));
            }
        }
        return f;
    }

    static long number(String s) {
        try {
            return s == null ? 0 : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
