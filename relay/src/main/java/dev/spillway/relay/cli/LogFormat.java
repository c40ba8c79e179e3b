package dev.spillway.relay.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the relay writes its log to stderr: {@code text} (logback.xml's pattern: ISO-8601 time with
 * the zone offset, level, thread, logger, message, the event's fields) or {@code json} — one JSON
 * object per line from logback's own {@link JsonEncoder}, the events' fields in its
 * {@code kvpList} ({@code {"event":"failover"}, {"master":"10.0.0.2:6379"}}).
 */
enum LogFormat {
    text,
    json;

    /** Switches the console appender of logback.xml to this format. */
    void apply() {
        if (this == text || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx)) {
            return;
        }
        Appender<ILoggingEvent> appender = ctx.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("STDERR");
        if (appender instanceof ConsoleAppender<ILoggingEvent> console) {
            JsonEncoder encoder = new JsonEncoder();
            encoder.setContext(ctx);
            encoder.start();
            console.stop();
            console.setEncoder(encoder);
            console.start();
        }
    }
}
