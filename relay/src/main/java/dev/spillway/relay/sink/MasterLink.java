package dev.spillway.relay.sink;

import dev.spillway.relay.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.redis.ArrayHeaderRedisMessage;
import io.netty.handler.codec.redis.BulkStringHeaderRedisMessage;
import io.netty.handler.codec.redis.BulkStringRedisContent;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.IntegerRedisMessage;
import io.netty.handler.codec.redis.LastBulkStringRedisContent;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.SimpleStringRedisMessage;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's connection to the master: one TCP connection to the node the write gate names,
 * known to be that node, on which each batch's commands go out pipelined.
 *
 * <h2>Why a connection of the relay's own</h2>
 * The gate names the master by address and run id, and a write may only land on that node: not
 * on a frozen old master that resumed at the same address, nor on a master restarted there
 * (another process, another run id, perhaps without the data). A TCP connection reaches one
 * process for its whole life, so asking the node its run id once, when the connection opens
 * ({@code INFO server}), proves it for every batch sent on the connection afterwards. A
 * connection that closes is not reopened behind the relay's back: the next write opens a new one
 * and asks again. (The write script used to ask inside every batch; that was about a fifth of
 * the master's CPU per batch.) This holds as long as a TCP connection to the address reaches one
 * Redis process, as it does directly, through NAT or a TCP proxy; not through a proxy that
 * speaks Redis and spreads commands over servers.
 *
 * <h2>Replies</h2>
 * Every {@link #send} says how many replies its commands produce and gets them, in order, as
 * plain values — {@code Long}, {@code String} (a status), {@code byte[]} (a bulk string, null
 * for nil), {@code List<Object>} (an array), {@link RedisErrorReply} — or fails: with
 * {@link RedisLinkException} when the connection closes first, with
 * {@link RedisReplyTimeoutException} (and the connection closed, so that no late reply is taken
 * for another's) when they do not all come in time.
 *
 * <h2>An idle connection is checked</h2>
 * After {@code sink.redis.timeout} with nothing sent or received, the link sends {@code PING}; no
 * answer in time closes it, unless a batch was sent behind it (its own deadline decides). A path that died silently (an expired NAT entry, a host gone without
 * a reset) is found then, not by the next batch.
 *
 * <p>Thread-safe: {@link #send} may be called from any thread; the queue of expected replies is
 * confined to the connection's event loop.
 */
final class MasterLink {

    private static final Logger LOG = LoggerFactory.getLogger(MasterLink.class);

    /** setsockopt(SOL_SOCKET, SO_RCVLOWAT) as Linux numbers them. */
    private static final IntegerUnixChannelOption SO_RCVLOWAT = new IntegerUnixChannelOption("SO_RCVLOWAT", 1, 18);

    private final String address;
    private final String runId;
    private final Channel channel;
    private final Replies replies;
    private final long timeoutNanos;
    private final CompletableFuture<MasterLink> ready = CompletableFuture.completedFuture(this);
    private int onlineAtOpen = -1;

    private MasterLink(String address, String runId, Channel channel, Replies replies, long timeoutNanos) {
        this.address = address;
        this.runId = runId;
        this.channel = channel;
        this.replies = replies;
        this.timeoutNanos = timeoutNanos;
        replies.link = this;
    }

    /**
     * Connects to {@code address} (host:port) with the relay's TLS and credentials, and checks
     * that the node there has {@code runId}; with {@code countReplicas}, also asks {@code ROLE}
     * how many replicas are online ({@link #onlineAtOpen()}). Completes within
     * {@code connectTimeout + timeout}: with the link, with {@link RedisLinkException} when no
     * connection could be made or the node refused the credentials, with a
     * {@link RedisErrorReply} {@code SPILLWAY-FENCE ...} when the node is another one.
     *
     * @param resolver where a host name is looked up (never the event loop: a slow resolver
     *     would stall every producer on it)
     * @param fewestReplyBytes how many bytes must have come before a batch's replies wake the
     *     relay (see {@link #send}); 1 for no such wait
     */
    static CompletableFuture<MasterLink> open(EventLoopGroup group, Executor resolver, SinkConfig config,
            String address, String runId, boolean countReplicas, int fewestReplyBytes) {
        CompletableFuture<MasterLink> opened = new CompletableFuture<>();
        int colon = address.lastIndexOf(':');
        String host;
        int port;
        try {
            host = address.substring(0, colon);
            port = Integer.parseInt(address.substring(colon + 1));
        } catch (RuntimeException e) {
            opened.completeExceptionally(new RedisLinkException("not a host:port address: " + address, e));
            return opened;
        }
        long deadline = config.connectTimeout().plus(config.timeout()).toMillis();
        ScheduledFuture<?> late = group.schedule(() -> opened.completeExceptionally(new RedisLinkException(
                "no connection to the master " + address + " within " + deadline + " ms", null)), deadline,
                TimeUnit.MILLISECONDS);
        opened.whenComplete((l, e) -> late.cancel(false));
        resolve(host, port, resolver).whenComplete((at, unresolved) -> {
            if (unresolved != null) {
                opened.completeExceptionally(new RedisLinkException("cannot resolve the master's host " + host
                        + ": " + NodeProbe.reason(unresolved), unresolved));
                return;
            }
            connect(group, config, address, runId, countReplicas, fewestReplyBytes, host, at, opened);
        });
        return opened;
    }

    private static CompletableFuture<InetSocketAddress> resolve(String host, int port, Executor resolver) {
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            return CompletableFuture.completedFuture(new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(
                    host), port));
        }
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new InetSocketAddress(InetAddress.getByName(host), port);
            } catch (UnknownHostException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, resolver);
    }

    private static void connect(EventLoopGroup group, SinkConfig config, String address, String runId,
            boolean countReplicas, int fewestReplyBytes, String host, InetSocketAddress at,
            CompletableFuture<MasterLink> opened) {
        boolean tls = config.tls() != null;
        Replies replies = new Replies(address, tls ? 1 : fewestReplyBytes);
        long timeout = config.timeout().toNanos();
        new Bootstrap().group(group).channel(Transport.get().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.ALLOCATOR, Transport.allocator())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (tls) {
                            ch.pipeline().addLast(config.tls().newHandler(ch.alloc(), host, at.getPort()));
                        }
                        ch.pipeline().addLast(new IdleStateHandler(0, 0, timeout, TimeUnit.NANOSECONDS),
                                replies.arrivals(), new RedisDecoder(), replies);
                    }
                })
                .connect(at)
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        opened.completeExceptionally(new RedisLinkException("cannot connect to the master "
                                + address + ": " + NodeProbe.reason(f.cause()), f.cause()));
                        return;
                    }
                    MasterLink link = new MasterLink(address, runId, f.channel(), replies, timeout);
                    opened.whenComplete((l, e) -> {
                        if (e != null) {
                            link.close(); // refused, fenced, or too late
                        }
                    });
                    link.handshake(config, countReplicas).whenComplete((ok, e) -> {
                        if (e == null) {
                            opened.complete(link);
                        } else {
                            opened.completeExceptionally(e);
                        }
                    });
                });
    }

    /**
     * {@code AUTH} when the relay has a password, {@code INFO server} — is this the node the gate
     * names? — and, when asked, {@code ROLE}: how many replicas are online, so that the first
     * batch on this connection waits for them all.
     */
    private CompletableFuture<Void> handshake(SinkConfig config, boolean countReplicas) {
        ByteBuf out = channel.alloc().buffer(128);
        boolean auth = config.password() != null;
        if (auth) {
            if (config.username() != null) {
                RespWriter.command(out, "AUTH", config.username(), config.password());
            } else {
                RespWriter.command(out, "AUTH", config.password());
            }
        }
        RespWriter.command(out, "INFO", "server");
        if (countReplicas) {
            RespWriter.command(out, "ROLE");
        }
        int expected = (auth ? 1 : 0) + 1 + (countReplicas ? 1 : 0);
        return send(out, expected, config.timeout().toNanos(), 1).thenApply(values -> {
            if (auth && values.get(0) instanceof RedisErrorReply refused) {
                throw new RedisLinkException("the master " + address + " refused the relay's AUTH: "
                        + refused.error() + " (check sink.redis.username and password)", null);
            }
            Object info = values.get(auth ? 1 : 0);
            if (info instanceof RedisErrorReply e) {
                throw e;
            }
            String found = info instanceof byte[] text ? runIdIn(new String(text, StandardCharsets.US_ASCII)) : null;
            if (!runId.equals(found)) {
                throw new RedisErrorReply("SPILLWAY-FENCE the node at " + address + " has run id " + found
                        + ", not the master's the Sentinels name (run id " + runId + ")");
            }
            if (countReplicas) {
                onlineAtOpen = onlineReplicas(values.get(values.size() - 1), address).size();
            }
            return null;
        });
    }

    private static String runIdIn(String info) {
        int at = info.indexOf("run_id:");
        if (at < 0) {
            return null;
        }
        int end = at + 7;
        while (end < info.length() && Character.isLetterOrDigit(info.charAt(end))) {
            end++;
        }
        return info.substring(at + 7, end);
    }

    /**
     * The online replicas in a {@code ROLE} reply, as host:port the way the master names them (and
     * the Sentinels, who learn them from it); a node that says it is a replica now is refused.
     */
    static java.util.Set<String> onlineReplicas(Object role, String address) {
        if (role instanceof RedisErrorReply e) {
            throw e;
        }
        List<?> r = (List<?>) role;
        if (!"master".equals(new String((byte[]) r.get(0), StandardCharsets.US_ASCII))) {
            throw new RedisErrorReply("READONLY the node at " + address + " is a replica now (ROLE)");
        }
        java.util.Set<String> online = new java.util.HashSet<>();
        for (Object replica : (List<?>) r.get(2)) {
            List<?> f = (List<?>) replica;
            online.add(new String((byte[]) f.get(0), StandardCharsets.US_ASCII) + ":"
                    + new String((byte[]) f.get(1), StandardCharsets.US_ASCII));
        }
        return online;
    }

    String address() {
        return address;
    }

    String runId() {
        return runId;
    }

    /** The master's online replicas when the connection opened, as {@code ROLE} listed them; -1 if not asked. */
    int onlineAtOpen() {
        return onlineAtOpen;
    }

    /** This link, as a completed future (one object per link, not per batch). */
    CompletableFuture<MasterLink> ready() {
        return ready;
    }

    boolean isActive() {
        return channel.isActive();
    }

    /**
     * Writes {@code commands} (which the link now owns) and completes with their {@code expected}
     * replies; see the class comment for how it fails. Returns at once.
     *
     * @param fewestReplyBytes the fewest bytes any piece of these replies the node writes on its
     *     own can make: until that many have come, the connection does not wake the relay
     *     (SO_RCVLOWAT, native transport, no TLS). A batch's scripts answer at once and its
     *     {@code WAIT} later: with this, the scripts' reply alone does not wake the relay. Bytes
     *     that arrive in smaller pieces than the node wrote them (a segment boundary) are seen:
     *     after a read that left replies owed, the connection wakes for every byte until they came.
     */
    CompletableFuture<List<Object>> send(ByteBuf commands, int expected, long timeoutNanos, int fewestReplyBytes) {
        Exchange exchange = new Exchange(expected, fewestReplyBytes);
        if (channel.eventLoop().inEventLoop()) {
            write(commands, exchange, timeoutNanos);
        } else {
            channel.eventLoop().execute(() -> write(commands, exchange, timeoutNanos));
        }
        return exchange.future;
    }

    private void write(ByteBuf commands, Exchange exchange, long timeoutNanos) {
        if (!channel.isActive()) {
            commands.release();
            exchange.future.completeExceptionally(new RedisLinkException("the connection to the master "
                    + address + " is closed", null));
            return;
        }
        exchange.timeout = channel.eventLoop().schedule(() -> {
            if (exchange.probe && replies.waiting.size() > 1 && replies.waiting.peek() == exchange) {
                return; // a batch sent behind the PING has a deadline of its own, which decides
            }
            if (!exchange.future.isDone()) {
                exchange.future.completeExceptionally(new RedisReplyTimeoutException("the master " + address
                        + " did not answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms"));
                channel.close(); // later replies would be taken for the next exchange's
            }
        }, timeoutNanos, TimeUnit.NANOSECONDS);
        replies.expect(exchange);
        channel.writeAndFlush(commands).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                f.channel().close();
            }
        });
    }

    /** A {@code PING} on a connection nothing was sent on for a while: no answer in time closes it. */
    private void ping() {
        ByteBuf out = channel.alloc().buffer(16);
        RespWriter.command(out, "PING");
        Exchange ping = new Exchange(1, 1);
        ping.probe = true;
        write(out, ping, timeoutNanos);
    }

    void close() {
        channel.close();
    }

    /** Runs {@code listener} once the connection has closed, for whatever reason. */
    void onClose(Runnable listener) {
        channel.closeFuture().addListener(f -> listener.run());
    }

    @Override
    public String toString() {
        return "master link to " + address + " (run id " + runId + ")";
    }

    /** One send's expected replies. */
    private static final class Exchange {
        final int expected;
        final int fewestReplyBytes;
        boolean probe; // the idle PING: its deadline closes the connection only if nothing waits behind it
        final List<Object> values;
        final CompletableFuture<List<Object>> future = new CompletableFuture<>();
        ScheduledFuture<?> timeout;

        Exchange(int expected, int fewestReplyBytes) {
            this.expected = expected;
            this.fewestReplyBytes = fewestReplyBytes;
            this.values = new ArrayList<>(expected);
        }
    }

    /**
     * Matches replies to exchanges, in order; fails what is left when the connection closes; keeps
     * the connection's low-water mark; pings an idle connection.
     */
    private static final class Replies extends ChannelInboundHandlerAdapter {
        private final String address;
        private final int lowWater; // the mark while nothing is owed: a batch's, or 1
        final ArrayDeque<Exchange> waiting = new ArrayDeque<>(); // event loop only
        private Throwable failure; // event loop only: why the connection is being closed
        private boolean arrived; // event loop only: bytes came in the current read
        private int mark = 1; // event loop only: the SO_RCVLOWAT set now
        private final ArrayDeque<OpenArray> arrays = new ArrayDeque<>(); // event loop only: nested arrays being filled
        private byte[] bulk; // event loop only: the bulk string being filled
        private int filled; // event loop only
        MasterLink link;

        Replies(String address, int lowWater) {
            this.address = address;
            this.lowWater = lowWater;
        }

        /** Notes that bytes came, before they are decoded. */
        ChannelInboundHandlerAdapter arrivals() {
            return new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    arrived = true;
                    ctx.fireChannelRead(msg);
                }
            };
        }

        void expect(Exchange exchange) {
            waiting.add(exchange);
            if (exchange.fewestReplyBytes < mark) {
                setMark(exchange.fewestReplyBytes);
            }
        }

        /**
         * Builds each reply from the decoder's parts as they come — integers, statuses, errors,
         * bulk strings copied straight into the array they end in, arrays nested as deep as the
         * reply goes (ROLE's) — rather than aggregating each into a composite buffer and a message
         * first: a batch's replies are a dozen parts.
         */
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                part(ctx, msg);
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void part(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FullBulkStringRedisMessage b) { // the decoder's whole form for $0 and $-1
                reply(ctx, b.isNull() ? null : ByteBufUtil.getBytes(b.content()));
            } else if (msg instanceof BulkStringRedisContent c) {
                ByteBuf content = c.content();
                int n = content.readableBytes();
                if (bulk == null || n > bulk.length - filled) {
                    throw new DecoderException("bulk string content beyond its header");
                }
                content.getBytes(content.readerIndex(), bulk, filled, n);
                filled += n;
                if (c instanceof LastBulkStringRedisContent) {
                    byte[] done = bulk;
                    bulk = null;
                    reply(ctx, done);
                }
            } else if (msg instanceof BulkStringHeaderRedisMessage h) {
                bulk = new byte[h.bulkStringLength()];
                filled = 0;
            } else if (msg instanceof IntegerRedisMessage i) {
                reply(ctx, i.value());
            } else if (msg instanceof SimpleStringRedisMessage st) {
                reply(ctx, st.content());
            } else if (msg instanceof ErrorRedisMessage e) {
                reply(ctx, new RedisErrorReply(e.content()));
            } else if (msg instanceof ArrayHeaderRedisMessage h) {
                if (h.isNull()) {
                    reply(ctx, null);
                } else if (h.length() == 0) {
                    reply(ctx, new ArrayList<>(0));
                } else {
                    arrays.push(new OpenArray((int) h.length()));
                }
            } else {
                throw new DecoderException("unexpected reply part " + msg);
            }
        }

        /** A value is whole: it goes into the array being filled, or it is the next reply. */
        private void reply(ChannelHandlerContext ctx, Object value) {
            while (!arrays.isEmpty()) {
                OpenArray open = arrays.peek();
                open.values.add(value);
                if (open.values.size() < open.length) {
                    return;
                }
                arrays.pop();
                value = open.values;
            }
            Exchange head = waiting.peek();
            if (head == null) {
                ctx.close(); // a reply nothing asked for: the stream cannot be trusted
                return;
            }
            head.values.add(value);
            if (head.values.size() == head.expected) {
                waiting.poll();
                head.timeout.cancel(false);
                head.future.complete(head.values);
            }
        }

        /** An array reply being filled. */
        private static final class OpenArray {
            final int length;
            final List<Object> values;

            OpenArray(int length) {
                this.length = length;
                this.values = new ArrayList<>(length);
            }
        }

        /**
         * After each read: while replies are owed and this read brought some of them, the rest
         * may come in a piece shorter than any mark, so wake for every byte; once nothing is owed,
         * a batch's mark again (each send lowers it to its own at once, {@link #expect}).
         */
        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            // while replies are owed the mark only goes down; it goes back up once nothing is owed
            int wanted = waiting.isEmpty() ? lowWater : arrived ? 1 : mark;
            arrived = false;
            if (wanted != mark) {
                setMark(wanted);
            }
            ctx.fireChannelReadComplete();
        }

        private void setMark(int bytes) {
            if (Transport.get() != Transport.EPOLL || link == null) {
                return;
            }
            try {
                link.channel.config().setOption(SO_RCVLOWAT, bytes);
                mark = bytes;
            } catch (RuntimeException e) {
                LOG.debug("SO_RCVLOWAT {} on the connection to {} refused; waking for every byte", bytes, address, e);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent && waiting.isEmpty() && link != null) {
                link.ping();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            RedisLinkException closed = new RedisLinkException("the connection to the master " + address
                    + " closed before its replies came" + (failure == null ? "" : ": " + NodeProbe.reason(failure)),
                    failure);
            Exchange e;
            while ((e = waiting.poll()) != null) {
                if (e.timeout != null) {
                    e.timeout.cancel(false);
                }
                e.future.completeExceptionally(closed);
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (failure == null) {
                failure = cause; // a TLS refusal, a reset: named when the waiting exchanges fail
            }
            ctx.close();
        }
    }
}
