package dev.spillway.chaos.workload;

import java.io.IOException;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/** A producer speaking the Redis protocol (Jedis) to {@code host:port}: {@code RPUSH key value}. */
public final class RespProducer extends Producer {

    private final String host;
    private final int port;
    private final String key;
    private Jedis jedis;

    public RespProducer(int id, String host, int port, String key, int rate, long max, LatencyRecorder latency) {
        super(id, rate, max, latency);
        this.host = host;
        this.port = port;
        this.key = key;
    }

    @Override
    protected boolean send(String value) throws IOException, RefusedException {
        try {
            if (jedis == null) {
                jedis = new Jedis(host, port, 5_000);
            }
            return jedis.rpush(key, value) >= 1; // the relay answers 1 (values accepted); Redis the list length
        } catch (JedisDataException e) {
            throw new RefusedException(e.getMessage());
        } catch (JedisConnectionException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    protected void reconnect() {
        close();
    }

    @Override
    protected void close() {
        if (jedis != null) {
            try {
                jedis.close();
            } catch (RuntimeException ignored) {
                // already broken
            }
            jedis = null;
        }
    }

    @Override
    public String protocol() {
        return "resp";
    }
}
