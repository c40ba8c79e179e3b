package dev.spillway.relay.sink;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.metrics.RelayEvents;
import dev.spillway.relay.net.Transport;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.Closeable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listens to every configured Sentinel and keeps the {@link WriteGate}.
 *
 * <p>Two connections per Sentinel, on one event loop (so all state here is confined to it):
 * <ul>
 * <li><b>events</b>: {@code PSUBSCRIBE *} — every event the Sentinel publishes — and a
 *     {@code PING} each {@code sink.redis.sentinelHeartbeat}. A reply to a ping proves that every
 *     event the Sentinel published before it has been read (one connection, in order).</li>
 * <li><b>view</b>: {@code SENTINEL MASTER} and {@code SENTINEL REPLICAS} each heartbeat: the
 *     master's address, run id and flags, and how many replicas are healthy.</li>
 * </ul>
 *
 * <h2>The rule</h2>
 * The gate is open on master M (run id R) only while
 * <ol>
 * <li>a majority of the configured Sentinels answered both connections within
 *     {@code sink.redis.sentinelTimeout},</li>
 * <li>each of those has a view taken after the last trouble seen from any Sentinel, naming a
 *     master with no flag but {@code master}, and a majority of the configured Sentinels name M
 *     with run id R; none of them reports trouble.</li>
 * </ol>
 * Trouble is any event about the master or its failover ({@code +sdown}, {@code +odown},
 * {@code +new-epoch}, {@code +vote-for-leader}, {@code +try-failover}, {@code +elected-leader},
 * {@code +failover-state-*}, {@code +selected-slave}, {@code +promoted-slave},
 * {@code +slave-reconf-*}, {@code +switch-master}, {@code -failover-abort-*}, {@code +tilt}, …):
 * it closes the gate at once (advancing its epoch) and only views polled after it can reopen
 * it. Events about replicas and other Sentinels are not trouble. Why this suffices: an automatic
 * failover needs a majority of Sentinels to vote for a leader, and every vote is published
 * ({@code +new-epoch}/{@code +vote-for-leader}); a majority the relay hears from intersects that
 * majority. A manual {@code SENTINEL FAILOVER} involves one Sentinel only: its
 * {@code +new-epoch}/{@code +try-failover} reach the relay ~3 Sentinel ticks (~300 ms) before it
 * sends {@code REPLICAOF NO ONE} to the chosen replica — if the relay can hear that Sentinel.
 * {@code sink.ack.minReplicas: all} closes even that gap: a batch confirmed by every replica is on
 * whichever one gets promoted.
 *
 * <p>The parts: {@link SentinelLink} keeps both connections to one Sentinel
 * ({@link SentinelEventsHandler}, {@link SentinelPollHandler}); {@link SentinelEvents} tells
 * trouble; {@link GateRule} decides the gate from the views; {@link RunIdProbe} asks a new
 * master its run id. This class holds them together, remembers the last trouble and the
 * pending failover epoch, and applies each decision to the gate.
 *
 * <p>Thread-safe: public methods may be called from any thread; listeners of the gate run on
 * the watcher's event loop.
 */
public final class SentinelWatcher implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(SentinelWatcher.class);

    private final SinkConfig config;
    private final WriteGate gate;
    private final LongSupplier clock;
    private final EventLoopGroup group = Transport.get().newGroup(1);
    private final List<SentinelLink> links = new ArrayList<>();
    private final List<Channel> channels = new CopyOnWriteArrayList<>();
    private final RunIdProbe runIds;
    private final Counter failovers;
    private final Counter troubleEvents;
    private volatile String master;
    private volatile boolean closed;
    private volatile String lastSwitch;
    private long lastTroubleNanos; // event loop only
    private long pendingEpoch; // event loop only: the highest failover epoch voted on or announced
    private long pendingEpochNanos; // event loop only: when it was first heard
    private boolean warnedGroupSize; // event loop only
    private ScheduledFuture<?> ticker;

    public SentinelWatcher(SinkConfig config, WriteGate gate, MetricRegistry metrics) {
        this(config, gate, metrics, System::nanoTime);
    }

    SentinelWatcher(SinkConfig config, WriteGate gate, MetricRegistry metrics, LongSupplier clock) {
        this.config = config;
        this.gate = gate;
        this.clock = clock;
        this.lastTroubleNanos = clock.getAsLong();
        this.runIds = new RunIdProbe(config, group, clock, () -> closed, this::evaluate);
        SentinelLink.Listener reports = new Reports();
        for (String s : config.sentinels()) {
            links.add(new SentinelLink(s, config, group, channels, () -> closed, reports));
        }
        this.failovers = metrics.counter("spillway.sentinel.failovers");
        this.troubleEvents = metrics.counter("spillway.sentinel.trouble-events");
        metrics.register(MetricRegistry.name(SentinelWatcher.class, "master"),
                (Gauge<String>) () -> master == null ? "unknown" : master);
        metrics.register("spillway.gate.open", (Gauge<Integer>) () -> gate.state().open() ? 1 : 0);
        metrics.register("spillway.gate.epoch", (Gauge<Long>) () -> gate.state().epoch());
        metrics.register("spillway.gate.closings", (Gauge<Long>) gate::closings);
        metrics.register("spillway.sentinel.answering", (Gauge<Integer>) this::answering);
    }

    /** Connects to every Sentinel and starts the heartbeat; returns at once. */
    public void start() {
        group.execute(() -> {
            for (SentinelLink l : links) {
                l.connect(true);
                l.connect(false);
            }
            long period = config.sentinelHeartbeat().toNanos();
            ticker = group.next().scheduleAtFixedRate(this::tick, period, period, TimeUnit.NANOSECONDS);
        });
    }

    public WriteGate gate() {
        return gate;
    }

    /** The master's host:port as a majority of Sentinels last named it, or null before. */
    public String master() {
        return master;
    }

    /** Changes of master announced by Sentinels ({@code +switch-master}) since start. */
    public long failovers() {
        return failovers.getCount();
    }

    /** Sentinels that answered within {@code sink.redis.sentinelTimeout}. */
    public int answering() {
        long now = clock.getAsLong();
        int n = 0;
        for (SentinelLink l : links) {
            if (l.answering(now)) {
                n++;
            }
        }
        return n;
    }

    @Override
    public void close() {
        closed = true;
        if (ticker != null) {
            ticker.cancel(false);
        }
        channels.forEach(Channel::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    // ---- on the event loop ----

    private void tick() {
        try {
            long now = clock.getAsLong();
            for (SentinelLink l : links) {
                l.heartbeat(now);
            }
            evaluate();
        } catch (RuntimeException e) {
            LOG.warn("Sentinel heartbeat failed; the next one retries", e);
        }
    }

    /** Opens or closes the gate from what the Sentinels said; see the class comment for the rule. */
    void evaluate() {
        long now = clock.getAsLong();
        List<GateRule.Heard> heard = new ArrayList<>(links.size());
        for (SentinelLink l : links) {
            heard.add(new GateRule.Heard(l.address, l.answering(now), l.view));
        }
        GateRule.Decision d = GateRule.decide(heard, now, lastTroubleNanos, pendingEpoch, pendingEpochNanos,
                address -> runIds.runId(address, lastTroubleNanos));
        if (d.group() > links.size() && !warnedGroupSize) {
            warnedGroupSize = true;
            LOG.warn("sink.redis.sentinels lists {} Sentinels but the group of '{}' has {}: list them all; the write gate "
                    + "needs {} of them to answer", links.size(), config.masterName(), d.group(), d.group() / 2 + 1);
        }
        if (!d.open()) {
            gate.close(d.reason());
            return;
        }
        if (!d.master().equals(master)) {
            RelayEvents.info("master", "Sentinels name " + d.master() + " as master of '" + config.masterName() + "'",
                    "group", config.masterName(), "master", d.master());
        }
        master = d.master();
        gate.open(d.master(), d.runId(), d.replicas(), d.promotable());
    }

    /** An event from a Sentinel's pub/sub: trouble closes the gate now. */
    void onEvent(String sentinel, String channel, String payload) {
        if (!SentinelEvents.isTrouble(channel, payload, config.masterName())) {
            return;
        }
        troubleEvents.inc();
        lastTroubleNanos = clock.getAsLong();
        long epoch = SentinelEvents.failoverEpoch(channel, payload);
        if (epoch > pendingEpoch) {
            pendingEpoch = epoch;
            pendingEpochNanos = lastTroubleNanos;
        }
        if (channel.equals("+switch-master")) {
            String[] f = payload.split(" ");
            String to = f.length == 5 ? f[3] + ":" + f[4] : payload;
            if (!to.equals(lastSwitch)) {
                lastSwitch = to;
                failovers.inc();
                RelayEvents.warn("failover", "Failover of '" + config.masterName() + "' announced by Sentinel "
                        + sentinel + ": " + payload, "group", config.masterName(), "master", to, "sentinel", sentinel);
            }
        }
        gate.close("Sentinel " + sentinel + ": " + channel + " " + payload);
    }

    // ---- what the connections report; package-private so tests can play Sentinels ----

    /** A complete poll of one Sentinel's view. */
    void recordView(SentinelLink link, SentinelView v) {
        link.view = v;
        link.lastViewNanos = clock.getAsLong();
        link.answeredView = true;
        evaluate();
    }

    void recordView(int sentinel, SentinelView v) {
        recordView(links.get(sentinel), v);
    }

    /** A PONG on one Sentinel's events connection: every event it published before is read. */
    void recordPong(int sentinel) {
        recordPong(links.get(sentinel));
    }

    private void recordPong(SentinelLink l) {
        l.lastPongNanos = clock.getAsLong();
        l.answeredEvents = true;
    }

    /**
     * The events connection to a Sentinel is (re)established: whatever it published while the
     * connection was down was never read, so it counts as trouble.
     */
    void eventsConnected(String sentinel) {
        lastTroubleNanos = clock.getAsLong();
        gate.close("events connection to Sentinel " + sentinel + " (re)established: events may have been missed");
    }

    String address(int sentinel) {
        return links.get(sentinel).address;
    }

    /** The links' reports, applied on the event loop. */
    private final class Reports implements SentinelLink.Listener {
        @Override
        public void eventsConnected(String sentinel) {
            SentinelWatcher.this.eventsConnected(sentinel);
        }

        @Override
        public void pong(SentinelLink link) {
            recordPong(link);
        }

        @Override
        public void event(String sentinel, String channel, String payload) {
            onEvent(sentinel, channel, payload);
        }

        @Override
        public void view(SentinelLink link, SentinelView view) {
            recordView(link, view);
        }

        @Override
        public void lost() {
            evaluate();
        }
    }
}
