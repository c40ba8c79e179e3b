package dev.spillway.relay.ingress.resp;

import dev.spillway.relay.RelayStatus;
import dev.spillway.relay.config.Limits;
import dev.spillway.relay.ingress.ListenerContext;
import dev.spillway.relay.ingress.ListenerInitializer;
import dev.spillway.relay.security.IngressUsers;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.redis.RedisEncoder;
import java.util.function.Supplier;

/** The Redis-protocol listener's pipeline, assembled in one place. */
public final class RespInitializer extends ListenerInitializer {

    private final IngressUsers users;
    private final Supplier<RelayStatus> status;

    public RespInitializer(ListenerContext context, IngressUsers users, Supplier<RelayStatus> status) {
        super(context);
        this.users = users;
        this.status = status;
    }

    @Override
    protected void addHandlers(ChannelPipeline p) {
        p.addLast("encoder", new RedisEncoder());
        addCodec(p, context.limits());
        p.addLast("commands", new RespCommandHandler(context.router(), context.inFlight(), context.metrics(),
                users, status));
    }

    /** Everything between bytes and whole commands, within the limits. */
    static void addCodec(ChannelPipeline p, Limits limits) {
        p.addLast("decoder", new RespRequestDecoder(limits));
    }
}
