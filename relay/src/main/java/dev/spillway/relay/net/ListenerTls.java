package dev.spillway.relay.net;

import com.codahale.metrics.MetricRegistry;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;

/**
 * TLS for one listener: the server context and the watcher of its handshakes, installed at the
 * head of each connection's pipeline (before anything reads or writes the protocol).
 *
 * <p>Immutable; thread-safe.
 */
public record ListenerTls(SslContext context, TlsHandshakeWatcher watcher) {

    /** The listener's TLS, its failed handshakes counted under {@code <metricPrefix>.tls-handshake-failures}. */
    public static ListenerTls of(SslContext context, String listener, String metricPrefix, MetricRegistry registry) {
        return new ListenerTls(context, new TlsHandshakeWatcher(listener,
                registry.meter(MetricRegistry.name(metricPrefix, "tls-handshake-failures"))));
    }

    /** Adds {@code tls} and {@code tls-errors} first in {@code ch}'s pipeline. */
    public void install(Channel ch) {
        ch.pipeline().addFirst("tls-errors", watcher);
        ch.pipeline().addFirst("tls", context.newHandler(ch.alloc()));
    }
}
