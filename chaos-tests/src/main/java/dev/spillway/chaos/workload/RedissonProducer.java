package dev.spillway.chaos.workload;

import java.io.IOException;
import org.redisson.api.RList;
import org.redisson.api.RedissonClient;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.RedisException;
import org.redisson.client.RedisTimeoutException;
import org.redisson.client.codec.StringCodec;

/**
 * A producer writing straight to the Redis master through a Sentinel-aware Redisson client —
 * what an application does without Spillway: {@code RPUSH key value}, no replication wait.
 * Producers may share one client, as the threads of one application would.
 */
public final class RedissonProducer extends Producer {

    private final RList<String> list;

    public RedissonProducer(int id, RedissonClient client, String key, int rate, long max, LatencyRecorder latency) {
        super(id, rate, max, latency);
        this.list = client.getList(key, StringCodec.INSTANCE);
    }

    @Override
    protected boolean send(String value) throws IOException, RefusedException {
        try {
            return list.add(value);
        } catch (RedisConnectionException | RedisTimeoutException e) {
            throw new IOException(e.getMessage(), e);
        } catch (RedisException e) {
            throw new RefusedException(e.getMessage());
        }
    }

    @Override
    protected void reconnect() {
        // the client reconnects by itself
    }

    @Override
    protected void close() {
        // the client belongs to the caller
    }

    @Override
    public String protocol() {
        return "redisson";
    }
}
