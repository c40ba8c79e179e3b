package dev.spillway.relay.ingress.resp;

import dev.spillway.relay.RelayStatus;
import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.ConnectionLimiter;
import dev.spillway.relay.ingress.InFlight;
import dev.spillway.relay.ingress.IngressMetrics;
import dev.spillway.relay.route.Intake;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.Channel;
import io.netty.handler.codec.redis.FixedRedisMessagePool;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisEncoder;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** The Redis-protocol listener's pipeline, assembled in one place. */
public final class RespInitializer extends ChannelInitializer<Channel> {

    private final Intake router;
    private final Limits limits;
    private final InFlight inFlight;
    private final IngressMetrics metrics;
    private final ConnectionLimiter connections;
    private final String password;
    private final Supplier<RelayStatus> status;

    public RespInitializer(Intake router, Limits limits, InFlight inFlight, IngressMetrics metrics,
            ConnectionLimiter connections, String password, Supplier<RelayStatus> status) {
        this.metrics = metrics;
        this.router = router;
        this.limits = limits;
        this.inFlight = inFlight;
        this.connections = connections;
        this.password = password;
        this.status = status;
    }

    @Override
    protected void initChannel(Channel ch) {
        ChannelPipeline p = ch.pipeline();
        p.addLast("connections", connections);
        p.addLast("idle", new IdleStateHandler(limits.idleTimeout().toMillis(), 0, 0, TimeUnit.MILLISECONDS));
        p.addLast("encoder", new RedisEncoder());
        addCodec(p, limits);
        p.addLast("commands", new RespCommandHandler(router, inFlight, metrics, password, status));
    }

    /** Decoder and assembler: everything between bytes and whole commands, within the limits. */
    static void addCodec(ChannelPipeline p, Limits limits) {
        p.addLast("decoder", new RedisDecoder(limits.maxInlineBytes(), FixedRedisMessagePool.INSTANCE, true));
        p.addLast("commands-in", new RespCommandAssembler(limits));
    }
}
