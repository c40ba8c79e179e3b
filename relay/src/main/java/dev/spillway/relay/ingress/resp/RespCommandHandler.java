package dev.spillway.relay.ingress.resp;

import dev.spillway.relay.Message;
import dev.spillway.relay.RelayStatus;
import dev.spillway.relay.ingress.InFlight;
import dev.spillway.relay.ingress.IngressMetrics;
import dev.spillway.relay.ingress.Rejections;
import dev.spillway.relay.ingress.ReplyingHandler;
import dev.spillway.relay.route.Intake;
import dev.spillway.relay.security.IngressUser;
import dev.spillway.relay.security.IngressUsers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.InlineCommandRedisMessage;
import io.netty.handler.codec.redis.IntegerRedisMessage;
import io.netty.handler.codec.redis.RedisMessage;
import io.netty.handler.codec.redis.SimpleStringRedisMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the Redis protocol: RPUSH/LPUSH go to the router and are answered (in order) with the
 * number of values accepted once durable; the connection commands that real clients send on
 * connect are answered locally; anything else gets an error naming what Spillway accepts.
 * Protocol errors are answered and the connection closed, since the stream cannot be resynced.
 * With users configured, a connection pushes as the user it authenticated as ({@code AUTH
 * [user] password}, {@code HELLO 2 AUTH user password}), and only to keys that user's patterns
 * allow; a push to any other key is refused with {@code -NOPERM} before it reaches the router.
 *
 * <p>One instance per connection; confined to its event loop.
 */
public final class RespCommandHandler extends ReplyingHandler<Object> {

    private static final Logger LOG = LoggerFactory.getLogger(RespCommandHandler.class);

    static final String ACCEPTED = "Spillway accepts RPUSH, LPUSH, PING, ECHO, QUIT, SELECT 0, "
            + "CLIENT SETNAME|SETINFO|GETNAME|ID, HELLO 2, COMMAND, CONFIG GET, INFO, AUTH";
    private static final AtomicLong CLIENT_IDS = new AtomicLong();
    private static final RedisMessage OK = new SimpleStringRedisMessage("OK");
    private static final RedisMessage PONG = new SimpleStringRedisMessage("PONG");

    private final Intake router;
    static final String NOPERM = "NOPERM No permissions to access a key";
    static final String WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

    private final IngressUsers users;
    private final Supplier<RelayStatus> status;
    private final long clientId = CLIENT_IDS.incrementAndGet();
    /** Who this connection pushes as; null until it authenticates, where that is required. */
    private IngressUser user;
    private String clientName;

    public RespCommandHandler(Intake router, InFlight inFlight, IngressMetrics metrics, IngressUsers users,
            Supplier<RelayStatus> status) {
        super(Object.class, inFlight, metrics);
        this.router = router;
        this.users = users;
        this.status = status;
        this.user = users.respAuthRequired() ? null : users.anonymous();
    }


    @Override
    protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
        if (replies.isClosing()) {
            return;
        }
        List<byte[]> args;
        if (msg instanceof RespRequestDecoder.RespCommand command) {
            args = command.args();
        } else if (msg instanceof InlineCommandRedisMessage inline) {
            args = InlineArgs.split(inline.content());
            if (args == null) {
                protocolError("unbalanced quotes in request");
                return;
            }
        } else {
            protocolError("expected a command as an array of bulk strings, got " + msg.getClass().getSimpleName());
            return;
        }
        if (args.isEmpty()) {
            return; // an empty inline line, as Redis does
        }
        String cmd = new String(args.get(0), StandardCharsets.UTF_8).toUpperCase(Locale.ROOT);
        if (user == null && !cmd.equals("AUTH") && !cmd.equals("HELLO") && !cmd.equals("QUIT")) {
            if ((cmd.equals("RPUSH") || cmd.equals("LPUSH")) && args.size() > 2) {
                metrics.rejected("no-auth", args.size() - 2);
            }
            replies.reply(error("NOAUTH Authentication required."));
            return;
        }
        switch (cmd) {
            case "RPUSH" -> push(Message.ListOp.RPUSH, args);
            case "LPUSH" -> push(Message.ListOp.LPUSH, args);
            case "PING" -> replies.reply(args.size() == 1 ? PONG : args.size() == 2 ? bulk(args.get(1)) : arity("ping"));
            case "ECHO" -> replies.reply(args.size() == 2 ? bulk(args.get(1)) : arity("echo"));
            case "QUIT" -> replies.replyAndClose(OK);
            case "SELECT" -> replies.reply(args.size() != 2 ? arity("select")
                    : text(args.get(1)).equals("0") ? OK
                    : error("ERR Spillway writes to database 0 only (SELECT 0)"));
            case "AUTH" -> replies.reply(auth(args));
            case "HELLO" -> replies.reply(hello(args));
            case "CLIENT" -> replies.reply(client(args));
            case "COMMAND" -> replies.reply(args.size() >= 2 && text(args.get(1)).equalsIgnoreCase("COUNT")
                    ? new IntegerRedisMessage(0) : new ArrayRedisMessage(List.of()));
            case "CONFIG" -> replies.reply(args.size() >= 2 && text(args.get(1)).equalsIgnoreCase("GET")
                    ? new ArrayRedisMessage(List.of()) : error("ERR Spillway answers CONFIG GET only (with nothing)"));
            case "INFO" -> replies.reply(bulk(info().getBytes(StandardCharsets.UTF_8)));
            default -> replies.reply(error("ERR unknown command '" + printable(args.get(0)) + "'; " + ACCEPTED));
        }
    }

    private void push(Message.ListOp op, List<byte[]> args) {
        if (args.size() < 3) {
            replies.reply(arity(op.name().toLowerCase(Locale.ROOT)));
            return;
        }
        int values = args.size() - 2;
        if (!user.allows(args.get(1))) {
            // refused whole, before anything is routed: nothing of it is written or spilled
            metrics.rejected("no-permission", values);
            replies.reply(error(NOPERM));
            return;
        }
        replies.completeLater(values, submit(router, op, args.get(1), args.subList(2, args.size())),
                err -> err == null ? accepted(values) : refusal(err));
    }

    /**
     * {@code -BUSY <reason>} when another relay or a later try can take it, {@code -ERR <reason>}
     * otherwise — except that a reason already starting with its own error code (Redis's own
     * refusal: {@code WRONGTYPE ...}) is passed on as it is, as Redis itself would have answered.
     */
    private static RedisMessage refusal(Throwable err) {
        String reason = Rejections.describe(err);
        if (Rejections.isRedisRefusal(err) && Rejections.startsWithErrorCode(reason)) {
            return error(reason);
        }
        return error((Rejections.isBusy(err) ? "BUSY " : "ERR ") + reason);
    }

    /** {@code :n\r\n}, already encoded for the common small counts: acks are the hot path. */
    private static Object accepted(int values) {
        return values < ACCEPTED_REPLIES.length ? ACCEPTED_REPLIES[values].duplicate() : new IntegerRedisMessage(values);
    }

    private static final ByteBuf[] ACCEPTED_REPLIES = new ByteBuf[128];

    static {
        for (int i = 0; i < ACCEPTED_REPLIES.length; i++) {
            ACCEPTED_REPLIES[i] = Unpooled.unreleasableBuffer(Unpooled.directBuffer(8)
                    .writeBytes((":" + i + "\r\n").getBytes(StandardCharsets.US_ASCII)).asReadOnly());
        }
    }

    private RedisMessage auth(List<byte[]> args) {
        if (args.size() < 2 || args.size() > 3) {
            return arity("auth");
        }
        if (!users.respAuthRequired() && args.size() == 2) {
            return error("ERR AUTH <password> called without any password configured for the default user. "
                    + "Are you sure your configuration is correct?");
        }
        String name = args.size() == 2 ? IngressUsers.DEFAULT_USER : text(args.get(1));
        IngressUser authenticated = users.authenticate(name, args.get(args.size() - 1));
        if (authenticated == null) {
            // as Redis: a failed AUTH leaves the connection as it was
            metrics.authFailed();
            return error(WRONGPASS);
        }
        user = authenticated;
        return OK;
    }

    private RedisMessage hello(List<byte[]> args) {
        int i = 1;
        if (args.size() > 1) {
            String proto = text(args.get(1));
            if (!proto.equals("2")) {
                return error(proto.equals("3") ? "NOPROTO sorry, Spillway speaks RESP2 only"
                        : "ERR Protocol version is not an integer or out of range");
            }
            i = 2;
        }
        // every option is read before any takes effect, as Redis does: a syntax error changes nothing
        List<byte[]> authArgs = null;
        String name = null;
        for (; i < args.size(); i++) {
            String opt = text(args.get(i)).toUpperCase(Locale.ROOT);
            if (opt.equals("AUTH") && i + 2 < args.size()) {
                authArgs = List.of("AUTH".getBytes(StandardCharsets.UTF_8), args.get(i + 1), args.get(i + 2));
                i += 2;
            } else if (opt.equals("SETNAME") && i + 1 < args.size()) {
                name = text(args.get(++i));
            } else {
                return error("ERR Syntax error in HELLO option '" + printable(args.get(i)) + "'");
            }
        }
        if (authArgs != null) {
            RedisMessage r = auth(authArgs);
            if (r instanceof ErrorRedisMessage) {
                return r;
            }
        }
        if (name != null) {
            clientName = name;
        }
        if (user == null) {
            return error("NOAUTH HELLO must be called with the client already authenticated, "
                    + "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client");
        }
        List<RedisMessage> fields = new ArrayList<>();
        fields.add(bulk("server"));
        fields.add(bulk("spillway"));
        fields.add(bulk("version"));
        fields.add(bulk(RelayVersion.REDIS_COMPATIBLE));
        fields.add(bulk("proto"));
        fields.add(new IntegerRedisMessage(2));
        fields.add(bulk("id"));
        fields.add(new IntegerRedisMessage(clientId));
        fields.add(bulk("mode"));
        fields.add(bulk("standalone"));
        fields.add(bulk("role"));
        fields.add(bulk("master"));
        fields.add(bulk("modules"));
        fields.add(new ArrayRedisMessage(List.of()));
        return new ArrayRedisMessage(fields);
    }

    private RedisMessage client(List<byte[]> args) {
        String sub = args.size() >= 2 ? text(args.get(1)).toUpperCase(Locale.ROOT) : "";
        return switch (sub) {
            case "SETNAME" -> {
                if (args.size() != 3) {
                    yield arity("client|setname");
                }
                clientName = text(args.get(2));
                yield OK;
            }
            case "SETINFO" -> args.size() == 4 ? OK : arity("client|setinfo");
            case "GETNAME" -> clientName == null ? FullBulkStringRedisMessage.NULL_INSTANCE : bulk(clientName);
            case "ID" -> new IntegerRedisMessage(clientId);
            default -> error("ERR Spillway answers CLIENT SETNAME, SETINFO, GETNAME and ID only");
        };
    }

    private String info() {
        return "# Server\r\n"
                + "redis_version:" + RelayVersion.REDIS_COMPATIBLE + "\r\n"
                + "redis_mode:standalone\r\n"
                + "spillway_version:" + RelayVersion.VERSION + "\r\n"
                + "loading:0\r\n"
                + "\r\n# Spillway\r\n"
                + status.get().infoFields();
    }

    /**
     * A protocol error is answered {@code -ERR Protocol error: ...} and anything else (a fault of
     * ours) {@code -ERR internal error: ...}, after every earlier reply; either way the
     * connection then closes, since the stream cannot be trusted. A failed connection is just
     * closed: nobody is left to answer.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable root = cause.getCause() != null ? cause.getCause() : cause;
        if (cause instanceof IOException || !ctx.channel().isActive()) {
            ctx.close();
        } else if (cause instanceof DecoderException) {
            protocolError(root.getMessage() != null ? root.getMessage() : root.toString());
        } else if (!replies.isClosing()) {
            LOG.warn("RESP connection {} failed; answering the error and closing", ctx.channel(), cause);
            metrics.rejected("internal", 1);
            replies.replyAndClose(error("ERR internal error: " + root));
        }
    }

    private void protocolError(String what) {
        if (!replies.isClosing()) {
            metrics.rejected("protocol-error", 1);
            replies.replyAndClose(error("ERR Protocol error: " + what));
        }
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static String printable(byte[] b) {
        String s = text(b);
        return s.length() > 64 ? s.substring(0, 64) + "..." : s.replaceAll("\\p{Cntrl}", "?");
    }

    private static RedisMessage arity(String cmd) {
        return error("ERR wrong number of arguments for '" + cmd + "' command");
    }

    static ErrorRedisMessage error(String text) {
        return new ErrorRedisMessage(text.replace('\r', ' ').replace('\n', ' '));
    }

    private static FullBulkStringRedisMessage bulk(byte[] b) {
        return new FullBulkStringRedisMessage(Unpooled.wrappedBuffer(b));
    }

    private static FullBulkStringRedisMessage bulk(String s) {
        return bulk(s.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    protected Object idleGoodbye() {
        return error("ERR idle for longer than limits.idleTimeout; closing");
    }
}
