package dev.spillway.relay.admin;

import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;

/** The admin listener's pipeline: HTTP, whole requests of up to 64 KiB, the {@link AdminHandler}. */
public final class AdminInitializer extends ChannelInitializer<SocketChannel> {

    private final AdminHandler handler;

    public AdminInitializer(AdminHandler handler) {
        this.handler = handler;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024), handler);
    }
}
