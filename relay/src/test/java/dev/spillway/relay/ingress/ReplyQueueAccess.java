package dev.spillway.relay.ingress;

import io.netty.util.AttributeKey;

/** Test access to the channel attribute under which a connection's {@link ReplyQueue} lives. */
final class ReplyQueueAccess {

    static final AttributeKey<ReplyQueue> KEY = ReplyQueue.KEY;

    private ReplyQueueAccess() {}
}
