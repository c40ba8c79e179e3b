package dev.spillway.relay.sink;

import static dev.spillway.relay.sink.SentinelResp.fields;
import static dev.spillway.relay.sink.SentinelResp.number;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.RedisMessage;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Sentinel's view connection: {@code SENTINEL MASTER} + {@code SENTINEL REPLICAS}, one pair
 * per heartbeat, answered in order; each answered pair is one {@link SentinelView}.
 *
 * <p>One per connection; confined to the watcher's event loop.
 */
final class SentinelPollHandler extends SentinelLink.Handler {

    // logs under the watcher's name: operators filter the Sentinel view by one logger
    private static final Logger LOG = LoggerFactory.getLogger(SentinelWatcher.class);

    private SentinelView partial;
    private long downAfterMillis; // of the master in the SENTINEL MASTER reply being answered

    SentinelPollHandler(SentinelLink link) {
        super(link);
    }

    @Override
    void active(ChannelHandlerContext ctx) {
        link.viewChannel = ctx.channel();
        link.pollsSent.clear();
    }

    @Override
    void inactive() {
        link.viewChannel = null;
        link.answeredView = false;
        link.view = null;
        link.pollsSent.clear();
        partial = null;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, RedisMessage msg) {
        if (authPending) {
            authPending = false;
            if (msg instanceof ErrorRedisMessage err) {
                LOG.warn("Sentinel {} refused AUTH: {}", link.address, err.content());
            }
            return;
        }
        if (partial == null) { // the SENTINEL MASTER reply
            Long sentAt = link.pollsSent.poll();
            if (sentAt == null) {
                return;
            }
            if (msg instanceof ErrorRedisMessage err) {
                LOG.warn("Sentinel {} does not know master '{}': {}", link.address, link.config.masterName(),
                        err.content());
                partial = new SentinelView(sentAt, "unknown", null, "unknown-master", -1, 0, 0, 0);
                return;
            }
            Map<String, String> f = fields(msg);
            downAfterMillis = number(f.get("down-after-milliseconds"));
            partial = new SentinelView(sentAt, f.getOrDefault("ip", "?") + ":" + f.getOrDefault("port", "?"),
                    f.get("runid"), f.getOrDefault("flags", "?"), 0, number(f.get("config-epoch")),
                    (int) number(f.get("num-other-sentinels")),
                    TimeUnit.MILLISECONDS.toNanos(number(f.get("failover-timeout"))));
            return;
        }
        int healthy = -1; // the SENTINEL REPLICAS reply; an error leaves the count unknown
        java.util.Set<String> promotable = new java.util.HashSet<>();
        if (msg instanceof ArrayRedisMessage arr) {
            healthy = 0;
            for (RedisMessage r : arr.children()) {
                Map<String, String> replica = fields(r);
                // a node that still reports itself master (an old master restarted after the
                // failover, not yet re-pointed) replicates nothing and cannot confirm a WAIT;
                // Sentinel ranks it last (no replication offset) and converts it within an INFO period
                if ("slave".equals(replica.get("flags"))
                        && !"master".equals(replica.get("role-reported"))) {
                    healthy++;
                    // Sentinel's own choice (sentinelSelectSlave) skips priority 0 and replicas cut
                    // off from the master for longer than ten down-after periods: any other it may promote
                    if (number(replica.get("slave-priority")) != 0
                            && number(replica.get("master-link-down-time")) <= 10 * downAfterMillis) {
                        promotable.add(replica.get("ip") + ":" + replica.get("port"));
                    }
                }
            }
        } else if (msg instanceof ErrorRedisMessage err) {
            LOG.warn("Sentinel {} cannot list the replicas of '{}': {}", link.address, link.config.masterName(),
                    err.content());
        }
        SentinelView p = partial;
        partial = null;
        link.listener.view(link, new SentinelView(p.polledAtNanos(), p.address(), p.runId(), p.flags(), healthy,
                p.configEpoch(), p.otherSentinels(), p.failoverTimeoutNanos(), java.util.Set.copyOf(promotable)));
    }
}
