package dev.spillway.relay.net;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Netty transport every socket of the relay uses: native epoll on Linux (fewer system calls
 * and no selector garbage per wakeup), Java NIO elsewhere or when the system property
 * {@code spillway.transport=nio} asks for it.
 */
public enum Transport {
    EPOLL, NIO;

    private static final Logger LOG = LoggerFactory.getLogger(Transport.class);
    private static final Transport CHOSEN = choose(System.getProperty("spillway.transport", "auto"));

    /** The transport of this process. */
    public static Transport get() {
        return CHOSEN;
    }

    static Transport choose(String wanted) {
        switch (wanted.toLowerCase(Locale.ROOT)) {
            case "nio":
                return NIO;
            case "epoll":
                Epoll.ensureAvailability();
                return EPOLL;
            case "auto":
                if (Epoll.isAvailable()) {
                    return EPOLL;
                }
                LOG.info("Native epoll unavailable ({}); using Java NIO", Epoll.unavailabilityCause().toString());
                return NIO;
            default:
                throw new IllegalArgumentException("spillway.transport must be auto, epoll or nio, not '" + wanted + "'");
        }
    }

    public IoHandlerFactory ioHandlerFactory() {
        return this == EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    /**
     * The buffers of every connection of the relay's: Netty's pooled allocator. Netty 4.2's
     * default (adaptive) hands the native transport buffers without a memory address of their
     * own, so every write of a reply to a producer allocates a {@code java.nio} view of it:
     * 220 of the 1,570 bytes the relay allocated per message at 17 clients.
     */
    public static ByteBufAllocator allocator() {
        return PooledByteBufAllocator.DEFAULT;
    }

    public EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, ioHandlerFactory());
    }

    public Class<? extends ServerChannel> serverChannel() {
        return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public Class<? extends SocketChannel> socketChannel() {
        return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }
}
