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
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.IntegerRedisMessage;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisMessage;
import io.netty.handler.codec.redis.SimpleStringRedisMessage;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

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
 * the master's CPU per batch.)
 *
 * <h2>Replies</h2>
 * Every {@link #send} says how many replies its commands produce and gets them, in order, as
 * plain values — {@code Long}, {@code String} (a status), {@code byte[]} (a bulk string, null
 * for nil), {@code List<Object>} (an array), {@link RedisErrorReply} — or fails: with
 * {@link RedisLinkException} when the connection closes first, with
 * {@link RedisReplyTimeoutException} (and the connection closed, so that no late reply is taken
 * for another's) when they do not all come in time.
 *
 * <p>Thread-safe: {@link #send} may be called from any thread; the queue of expected replies is
 * confined to the connection's event loop.
 */
final class MasterLink {

    private final String address;
    private final String runId;
    private final Channel channel;
    private final Replies replies;
    private final CompletableFuture<MasterLink> ready = CompletableFuture.completedFuture(this);

    private MasterLink(String address, String runId, Channel channel, Replies replies) {
        this.address = address;
        this.runId = runId;
        this.channel = channel;
        this.replies = replies;
    }

    /**
     * Connects to {@code address} (host:port) with the relay's TLS and credentials, and checks
     * that the node there has {@code runId}. Fails with {@link RedisLinkException} when no
     * connection could be made or the node refused the credentials, and with a
     * {@link RedisErrorReply} {@code SPILLWAY-FENCE ...} when the node is another one.
     */
    static CompletableFuture<MasterLink> open(EventLoopGroup group, SinkConfig config, String address,
            String runId, int fewestReplyBytes) {
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
        Replies replies = new Replies(address);
        new Bootstrap().group(group).channel(Transport.get().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (config.tls() != null) {
                            ch.pipeline().addLast(config.tls().newHandler(ch.alloc(), host, port));
                        }
                        ch.pipeline().addLast(new RedisDecoder(), new RedisBulkStringAggregator(),
                                new RedisArrayAggregator(), replies);
                    }
                })
                .connect(host, port)
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        opened.completeExceptionally(new RedisLinkException("cannot connect to the master "
                                + address + ": " + NodeProbe.reason(f.cause()), f.cause()));
                        return;
                    }
                    MasterLink link = new MasterLink(address, runId, f.channel(), replies);
                    link.handshake(config).whenComplete((ok, e) -> {
                        if (e == null) {
                            link.wakeOnlyFor(fewestReplyBytes);
                            opened.complete(link);
                        } else {
                            link.close();
                            opened.completeExceptionally(e);
                        }
                    });
                });
        return opened;
    }

    /** {@code AUTH} when the relay has a password, then {@code INFO server}: is this the node the gate names? */
    private CompletableFuture<Void> handshake(SinkConfig config) {
        ByteBuf out = channel.alloc().buffer(128);
        int expected = 1;
        if (config.password() != null) {
            if (config.username() != null) {
                RespWriter.command(out, "AUTH", config.username(), config.password());
            } else {
                RespWriter.command(out, "AUTH", config.password());
            }
            expected++;
        }
        RespWriter.command(out, "INFO", "server");
        boolean auth = expected == 2;
        return send(out, expected, config.timeout().toNanos()).thenApply(values -> {
            if (auth && values.get(0) instanceof RedisErrorReply refused) {
                throw new RedisLinkException("the master " + address + " refused the relay's AUTH: "
                        + refused.error() + " (check sink.redis.username and password)", null);
            }
            Object info = values.get(values.size() - 1);
            if (info instanceof RedisErrorReply e) {
                throw e;
            }
            String found = info instanceof byte[] text ? runIdIn(new String(text, StandardCharsets.US_ASCII)) : null;
            if (!runId.equals(found)) {
                throw new RedisErrorReply("SPILLWAY-FENCE the node at " + address + " has run id " + found
                        + ", not the master's the Sentinels name (run id " + runId + ")");
            }
            return null;
        });
    }

    /**
     * Lets the connection wake its event loop only once {@code bytes} have arrived (SO_RCVLOWAT,
     * native transport only), so that a batch's script reply, which the master writes at once,
     * need not wake the relay a second time before {@code WAIT}'s. Every piece of replies the
     * node writes on its own must be at least that long, or it waits for its timeout (late,
     * never lost); the sink says how long.
     */
    private void wakeOnlyFor(int bytes) {
        if (bytes > 1 && Transport.get() == Transport.EPOLL) {
            channel.config().setOption(SO_RCVLOWAT, bytes);
        }
    }

    /** setsockopt(SOL_SOCKET, SO_RCVLOWAT) as Linux numbers them. */
    private static final IntegerUnixChannelOption SO_RCVLOWAT = new IntegerUnixChannelOption("SO_RCVLOWAT", 1, 18);

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

    String address() {
        return address;
    }

    String runId() {
        return runId;
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
     */
    CompletableFuture<List<Object>> send(ByteBuf commands, int expected, long timeoutNanos) {
        Exchange exchange = new Exchange(expected);
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
        final List<Object> values;
        final CompletableFuture<List<Object>> future = new CompletableFuture<>();
        ScheduledFuture<?> timeout;

        Exchange(int expected) {
            this.expected = expected;
            this.values = new ArrayList<>(expected);
        }
    }

    /** Matches replies to exchanges, in order; fails what is left when the connection closes. */
    private static final class Replies extends ChannelInboundHandlerAdapter {
        private final String address;
        private final ArrayDeque<Exchange> waiting = new ArrayDeque<>(); // event loop only
        private Throwable failure; // event loop only: why the connection is being closed

        Replies(String address) {
            this.address = address;
        }

        void expect(Exchange exchange) {
            waiting.add(exchange);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Object value;
            try {
                value = value((RedisMessage) msg);
            } finally {
                ReferenceCountUtil.release(msg);
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

        private static Object value(RedisMessage m) {
            if (m instanceof IntegerRedisMessage i) {
                return i.value();
            }
            if (m instanceof SimpleStringRedisMessage s) {
                return s.content();
            }
            if (m instanceof ErrorRedisMessage e) {
                return new RedisErrorReply(e.content());
            }
            if (m instanceof FullBulkStringRedisMessage b) {
                return b.isNull() ? null : ByteBufUtil.getBytes(b.content());
            }
            if (m instanceof ArrayRedisMessage a) {
                if (a.isNull()) {
                    return null;
                }
                List<Object> list = new ArrayList<>(a.children().size());
                for (RedisMessage c : a.children()) {
                    list.add(value(c));
                }
                return list;
            }
            throw new IllegalStateException("unexpected reply " + m);
        }
    }
}
