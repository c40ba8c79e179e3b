package dev.spillway.relay.sink;

import static dev.spillway.relay.sink.SentinelResp.auth;
import static dev.spillway.relay.sink.SentinelResp.command;
import static dev.spillway.relay.sink.SentinelResp.text;

import dev.spillway.relay.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisEncoder;
import io.netty.handler.codec.redis.RedisMessage;
import io.netty.handler.ssl.SslHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * One exchange with one Redis node or Sentinel, as the relay's own connections make it: TCP,
 * TLS when configured, {@code AUTH} when a password is set, one or more commands; then close.
 * Tells the ways it can go apart — unreachable, TLS refused, authentication refused, a command
 * not permitted, an answer — so that {@link Preflight} can tell a wrong setting from an outage.
 *
 * <p>Stateless; thread-safe.
 */
final class NodeProbe {

    /** How the exchange went. */
    enum Outcome {
        /** No TCP connection, or no answer in time: an outage, not a setting. */
        UNREACHABLE,
        /** Connected, then closed (or reset) before answering. */
        CLOSED,
        /** The TLS handshake failed (either side refused the other's certificate, or no TLS there). */
        TLS_FAILED,
        /** {@code AUTH} was refused, or a command answered NOAUTH or WRONGPASS. */
        AUTH_REFUSED,
        /** A command answered NOPERM: the relay's ACL user may not run it, or not on its keys or channels. */
        NOT_PERMITTED,
        /** The command's reply (which may be another error). */
        ANSWERED
    }

    /**
     * @param detail the server's error or the failure, never a password; null for an answer
     * @param reply an answer's strings (an array's elements, or the one string); empty for nil
     */
    record Result(Outcome outcome, String detail, List<String> reply) {

        static Result failed(Outcome outcome, String detail) {
            return new Result(outcome, detail, List.of());
        }
    }

    private NodeProbe() {}

    /**
     * Sends {@code AUTH user password} (when {@code password} is set) and {@code command} to
     * {@code host:port}; completes within {@code timeout} of the connection, never exceptionally.
     */
    static CompletableFuture<Result> exchange(EventLoopGroup group, SinkConfig config, String host, int port,
            String user, String password, Duration timeout, String... command) {
        return exchange(group, config, host, port, user, password, timeout, List.<String[]>of(command));
    }

    /**
     * As above with several commands, pipelined in order: the first error ends the exchange (its
     * detail names the command: {@code PSUBSCRIBE *: NOPERM ...}); without one, the answer is the
     * first command's reply. A subscribing command ({@code PSUBSCRIBE}) can only come last.
     */
    static CompletableFuture<Result> exchange(EventLoopGroup group, SinkConfig config, String host, int port,
            String user, String password, Duration timeout, List<String[]> commands) {
        CompletableFuture<Result> result = new CompletableFuture<>();
        new Bootstrap().group(group).channel(Transport.get().socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (config.tls() != null) {
                            SslHandler tls = config.tls().newHandler(ch.alloc(), host, port);
                            tls.setHandshakeTimeoutMillis(timeout.toMillis());
                            tls.handshakeFuture().addListener(f -> {
                                if (!f.isSuccess()) {
                                    result.complete(Result.failed(Outcome.TLS_FAILED, reason(f.cause())));
                                    ch.close();
                                }
                            });
                            ch.pipeline().addLast(tls);
                        }
                        ch.pipeline().addLast(new RedisDecoder(), new RedisBulkStringAggregator(),
                                new RedisArrayAggregator(), new RedisEncoder(),
                                new Exchange(result, auth(user, password), commands));
                    }
                })
                .connect(host, port)
                .addListener(f -> {
                    if (!f.isSuccess()) {
                        result.complete(Result.failed(Outcome.UNREACHABLE, reason(f.cause())));
                    }
                });
        group.schedule(() -> result.complete(Result.failed(Outcome.UNREACHABLE, "no answer within "
                + (config.connectTimeout().toMillis() + timeout.toMillis()) + " ms")),
                config.connectTimeout().plus(timeout).toMillis(), TimeUnit.MILLISECONDS);
        return result;
    }

    /** The innermost message of a failure, with its type when it says little alone. */
    static String reason(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getMessage();
        return msg == null || msg.isBlank() ? root.getClass().getSimpleName() : msg;
    }

    /** A command as a log line shows it: a long argument (a script) cut short. */
    private static String[] shown(String[] command) {
        String[] out = command.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i].length() > 40) {
                out[i] = "<" + out[i].length() + " bytes>";
            }
        }
        return out;
    }

    private static boolean isTls(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SSLException) {
                return true;
            }
        }
        return false;
    }

    private static boolean isAuthError(String error) {
        return error.startsWith("WRONGPASS") || error.startsWith("NOAUTH")
                || error.startsWith("ERR AUTH") || error.contains("invalid password");
    }

    /** What a command's error says about the relay's settings. */
    private static Outcome classify(String error) {
        return error.startsWith("NOPERM") ? Outcome.NOT_PERMITTED
                : isAuthError(error) ? Outcome.AUTH_REFUSED : Outcome.ANSWERED;
    }

    /** Sends AUTH (if any) and the command on activation; reads their replies in order. */
    private static final class Exchange extends SimpleChannelInboundHandler<RedisMessage> {
        private final CompletableFuture<Result> result;
        private final ArrayRedisMessage auth;
        private final List<String[]> commands;
        private boolean authPending;
        private int answered; // replies read so far, AUTH's aside
        private List<String> firstReply;

        Exchange(CompletableFuture<Result> result, ArrayRedisMessage auth, List<String[]> commands) {
            this.result = result;
            this.auth = auth;
            this.commands = commands;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (auth != null) {
                authPending = true;
                ctx.write(auth); // with TLS, held by the SslHandler until the handshake is done
            }
            for (String[] c : commands) {
                ctx.write(command(c));
            }
            ctx.flush();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RedisMessage msg) {
            String error = msg instanceof ErrorRedisMessage e ? e.content() : null;
            if (authPending) {
                authPending = false;
                if (error != null) {
                    result.complete(Result.failed(Outcome.AUTH_REFUSED, "AUTH: " + error));
                    ctx.close();
                }
                return;
            }
            String[] asked = commands.get(answered++);
            if (error != null) {
                String what = commands.size() == 1 ? error : String.join(" ", shown(asked)) + ": " + error;
                result.complete(Result.failed(classify(error), what));
                ctx.close();
                return;
            }
            if (firstReply == null) {
                List<String> reply = new ArrayList<>();
                if (msg instanceof ArrayRedisMessage arr && !arr.isNull()) {
                    arr.children().forEach(c -> reply.add(text(c)));
                } else if (text(msg) != null) {
                    reply.add(text(msg));
                }
                firstReply = reply;
            }
            if (answered == commands.size()) {
                result.complete(new Result(Outcome.ANSWERED, null, firstReply));
                ctx.close();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            result.complete(Result.failed(Outcome.CLOSED, "connection closed"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            // connected (a failed connect is the connect future's): a reset is the server hanging up
            result.complete(Result.failed(isTls(cause) ? Outcome.TLS_FAILED : Outcome.CLOSED, reason(cause)));
            ctx.close();
        }
    }
}
