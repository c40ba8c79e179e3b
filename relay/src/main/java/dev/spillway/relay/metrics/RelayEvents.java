package dev.spillway.relay.metrics;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * What operators look for during an incident — a failover, the breaker changing state, the
 * relay turning to its spill log and draining it, dead letters, a full disk, a drain — logged
 * through one logger, {@value #LOGGER}, with the event's name and fields as key-value pairs:
 * {@code event="failover" master="10.0.0.2:6379"}. The JSON log format ({@code --log-format json})
 * carries them as fields, and {@link EventHistory} keeps the last ones for {@code /events}.
 *
 * <p>The logger is at INFO whatever the root level, so these lines and the history survive
 * {@code SPILLWAY_LOG_LEVEL=WARN}.
 */
public final class RelayEvents {

    public static final String LOGGER = "spillway.events";
    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

    private RelayEvents() {}

    public static void info(String event, String message, Object... fields) {
        log(Level.INFO, event, message, fields);
    }

    public static void warn(String event, String message, Object... fields) {
        log(Level.WARN, event, message, fields);
    }

    /**
     * @param fields name, value, name, value, ...: the event's fields, besides {@code event}
     */
    private static void log(Level level, String event, String message, Object... fields) {
        if (fields.length % 2 != 0) {
            throw new IllegalArgumentException("fields come in name/value pairs: " + fields.length);
        }
        LoggingEventBuilder b = LOG.atLevel(level).addKeyValue("event", event);
        for (int i = 0; i < fields.length; i += 2) {
            b = b.addKeyValue(String.valueOf(fields[i]), fields[i + 1]);
        }
        b.log(message);
    }
}
