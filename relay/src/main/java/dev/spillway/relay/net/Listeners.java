package dev.spillway.relay.net;

import dev.spillway.relay.config.ListenerConfig;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.io.Closeable;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * Binds the relay's listening sockets: one acceptor thread for all of them; connections are
 * served on event loops the caller owns.
 *
 * <p>Thread-safe.
 */
public final class Listeners implements Closeable {

    private final EventLoopGroup boss = Transport.get().newGroup(1);
    private final EventLoopGroup workers;

    public Listeners(EventLoopGroup workers) {
        this.workers = workers;
    }

    /**
     * Binds {@code listener}, its connections set up by {@code initializer}. With
     * {@code halfClosure}, a client's shutdown of its sending side does not close the
     * connection: the handlers answer what it sent, then close.
     */
    public Channel bind(ListenerConfig listener, ChannelHandler initializer, boolean halfClosure)
            throws IOException {
        try {
            return new ServerBootstrap().group(boss, workers).channel(Transport.get().serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.ALLOCATOR, Transport.allocator())
                    .childOption(ChannelOption.ALLOW_HALF_CLOSURE, halfClosure)
                    .childHandler(initializer)
                    .bind(listener.host(), listener.port()).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while binding " + listener.address(), e);
        } catch (Exception e) {
            throw new IOException("cannot listen on " + listener.address() + ": " + e.getMessage(), e);
        }
    }

    /** Stops the acceptor thread; the listening channels are closed first by their owners. */
    @Override
    public void close() {
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
