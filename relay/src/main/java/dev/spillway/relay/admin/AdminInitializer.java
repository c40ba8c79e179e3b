package dev.spillway.relay.admin;

import dev.spillway.relay.net.ListenerTls;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;

/**
 * The admin listener's pipeline: TLS when configured, HTTP, whole requests of up to 64 KiB, the
 * {@link AdminHandler}.
 */
public final class AdminInitializer extends ChannelInitializer<SocketChannel> {

    private final AdminHandler handler;
    private final ListenerTls tls;

    public AdminInitializer(AdminHandler handler) {
        this(handler, null);
    }

    /** {@code tls}: null for plaintext. */
    public AdminInitializer(AdminHandler handler, ListenerTls tls) {
        this.handler = handler;
        this.tls = tls;
    }

    @Override
    protected void initChannel(SocketChannel ch) {
        if (tls != null) {
            tls.install(ch);
        }
        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024), handler);
    }
}
