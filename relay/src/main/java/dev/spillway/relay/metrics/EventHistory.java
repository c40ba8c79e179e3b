package dev.spillway.relay.metrics;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * The last {@link RelayEvents} of this process, newest last, for {@code /events}: a page reloaded
 * during an incident, or a flip shorter than its poll, still shows what happened. Attached to the
 * {@value RelayEvents#LOGGER} logger while a relay runs.
 *
 * <p>Thread-safe.
 */
public final class EventHistory extends AppenderBase<ILoggingEvent> {

    /** One event as {@code /events} shows it; {@code time} in ISO-8601 (UTC). */
    public record Entry(long seq, String time, String level, String event, String message, Map<String, String> fields) {}

    private final int capacity;
    private final ArrayDeque<Entry> entries; // guarded by this
    private long seq; // guarded by this

    public EventHistory(int capacity) {
        this.capacity = capacity;
        this.entries = new ArrayDeque<>(capacity);
        setName("event-history");
    }

    /** Starts it and attaches it to the events logger of the running logback context. */
    public static EventHistory attach(int capacity) {
        EventHistory h = new EventHistory(capacity);
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
            h.setContext(ctx);
            h.start();
            ctx.getLogger(RelayEvents.LOGGER).addAppender(h);
        }
        return h;
    }

    /** Detaches it again. */
    public void detach() {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext ctx) {
            ctx.getLogger(RelayEvents.LOGGER).detachAppender(this);
        }
        stop();
    }

    @Override
    protected void append(ILoggingEvent e) {
        Map<String, String> fields = new LinkedHashMap<>();
        String event = "";
        List<KeyValuePair> kvs = e.getKeyValuePairs();
        if (kvs != null) {
            for (KeyValuePair kv : kvs) {
                if (kv.key.equals("event")) {
                    event = String.valueOf(kv.value);
                } else {
                    fields.put(kv.key, String.valueOf(kv.value));
                }
            }
        }
        synchronized (this) {
            if (entries.size() == capacity) {
                entries.removeFirst();
            }
            entries.addLast(new Entry(++seq, Instant.ofEpochMilli(e.getTimeStamp()).toString(), e.getLevel().toString(), event,
                    e.getFormattedMessage(), fields));
        }
    }

    /** The events kept, oldest first. */
    public synchronized List<Entry> entries() {
        return new ArrayList<>(entries);
    }
}
