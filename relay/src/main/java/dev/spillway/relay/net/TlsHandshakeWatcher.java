package dev.spillway.relay.net;

import com.codahale.metrics.Meter;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits right after a listener's {@code SslHandler}: a failed handshake (a plaintext client, an
 * untrusted or missing client certificate, a timeout) is counted, logged once at debug with the
 * peer, and its connection closed; the listener's own handlers never see the TLS error, so they
 * do not answer it in their protocol (there is no secure channel to answer on). Other
 * connections are untouched.
 *
 * <p>Sharable: no state of its own; thread-safe.
 */
@ChannelHandler.Sharable
public final class TlsHandshakeWatcher extends ChannelInboundHandlerAdapter {

    private static final Logger LOG = LoggerFactory.getLogger(TlsHandshakeWatcher.class);

    private final String listener;
    private final Meter failures;

    public TlsHandshakeWatcher(String listener, Meter failures) {
        this.listener = listener;
        this.failures = failures;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
            failures.mark();
            LOG.debug("TLS handshake with {} on the {} listener failed: {}", ctx.channel().remoteAddress(), listener,
                    done.cause().toString());
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        Throwable tls = cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
        if (tls instanceof SSLException) {
            // a failed handshake was counted and logged by its completion event; anything later is a
            // broken TLS stream, which cannot be answered either
            LOG.debug("TLS error with {} on the {} listener; closing: {}", ctx.channel().remoteAddress(), listener,
                    tls.toString());
            ctx.close();
            return;
        }
        super.exceptionCaught(ctx, cause);
    }
}
