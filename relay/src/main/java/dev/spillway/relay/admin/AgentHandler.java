package dev.spillway.relay.admin;

import dev.spillway.relay.RelayStatus;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * HAProxy's agent check ({@code agent-check agent-port …}): on each connection the relay writes
 * one line with its own word on new connections and closes —
 * <ul>
 *   <li>{@code up ready} while it takes writes (directly or into its spill log);
 *   <li>{@code drain} while it is starting, full or draining: HAProxy sends it no new
 *       connections but keeps the ones it has, so producers read the refusal reason
 *       ({@code -BUSY …}, 503) rather than losing the connection;
 *   <li>{@code down} when only a restart helps (its spill log failed).
 * </ul>
 * Whether the relay is there at all is the health check's business ({@code /health/live}).
 *
 * <p>Sharable and stateless.
 */
@ChannelHandler.Sharable
public final class AgentHandler extends ChannelInboundHandlerAdapter {

    private final Supplier<RelayStatus> status;

    public AgentHandler(Supplier<RelayStatus> status) {
        this.status = status;
    }

    /** The agent's reply for {@code s}, without its newline. */
    public static String reply(RelayStatus s) {
        if (!s.isLive()) {
            return "down";
        }
        return s.takesWrites() ? "up ready" : "drain";
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Unpooled.copiedBuffer(reply(status.get()) + "\n", StandardCharsets.US_ASCII))
                .addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        io.netty.util.ReferenceCountUtil.release(msg); // agent-send text, if any, is not needed
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    /** The agent listener's pipeline: this handler alone. */
    public static ChannelInitializer<SocketChannel> initializer(Supplier<RelayStatus> status) {
        AgentHandler handler = new AgentHandler(status);
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(SocketChannel ch) {
                ch.pipeline().addLast(handler);
            }
        };
    }
}
