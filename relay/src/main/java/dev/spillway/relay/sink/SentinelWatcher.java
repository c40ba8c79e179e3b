package dev.spillway.relay.sink;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import dev.spillway.relay.net.Transport;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.redis.ArrayRedisMessage;
import io.netty.handler.codec.redis.ErrorRedisMessage;
import io.netty.handler.codec.redis.FullBulkStringRedisMessage;
import io.netty.handler.codec.redis.RedisArrayAggregator;
import io.netty.handler.codec.redis.RedisBulkStringAggregator;
import io.netty.handler.codec.redis.RedisDecoder;
import io.netty.handler.codec.redis.RedisEncoder;
import io.netty.handler.codec.redis.RedisMessage;
import io.netty.handler.codec.redis.SimpleStringRedisMessage;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.Closeable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 *     {@code PING} each {@code sink.sentinelHeartbeat}. A reply to a ping proves that every
 *     event the Sentinel published before it has been read (one connection, in order).</li>
 * <li><b>view</b>: {@code SENTINEL MASTER} and {@code SENTINEL REPLICAS} each heartbeat: the
 *     master's address, run id and flags, and how many replicas are healthy.</li>
 * </ul>
 *
 * <h2>The rule</h2>
 * The gate is open on master M (run id R) only while
 * <ol>
 * <li>a majority of the configured Sentinels answered both connections within
 *     {@code sink.sentinelTimeout},</li>
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
 * {@code sink.minReplicas: all} closes even that gap: a batch confirmed by every replica is on
 * whichever one gets promoted.
 *
 * <p>Thread-safe: public methods may be called from any thread; listeners of the gate run on
 * the watcher's event loop.
 */
public final class SentinelWatcher implements Closeable {

    private static final Logger LOG = LoggerFactory.getLogger(SentinelWatcher.class);
    private static final long RECONNECT_MILLIS = 250;

    /** Events about replicas or Sentinels that say nothing about the master's fate. */
    private static final Set<String> HARMLESS = Set.of("+sentinel", "+slave", "-dup-sentinel", "+reboot",
            "+sentinel-address-switch", "+sentinel-invalid-addr", "+fix-slave-config", "+convert-to-slave",
            "+cmd-ok", "+cmd-error");

    private final SinkConfig config;
    private final WriteGate gate;
    private final LongSupplier clock;
    private final EventLoopGroup group = Transport.get().newGroup(1);
    private final List<Link> links = new ArrayList<>();
    private final List<Channel> channels = new CopyOnWriteArrayList<>();
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
        for (String s : config.sentinels()) {
            links.add(new Link(s));
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
            for (Link l : links) {
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

    /** Sentinels that answered within {@code sink.sentinelTimeout}. */
    public int answering() {
        long now = clock.getAsLong();
        int n = 0;
        for (Link l : links) {
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
            for (Link l : links) {
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
        int answering = 0;
        int group = links.size();
        long failoverTimeoutNanos = 0;
        Map<String, Integer> agree = new HashMap<>();
        Map<String, Integer> replicas = new HashMap<>();
        Map<String, Long> epochs = new HashMap<>();
        String trouble = null;
        String stale = null;
        for (Link l : links) {
            if (!l.answering(now)) {
                continue;
            }
            answering++;
            View v = l.view;
            if (v == null || v.polledAtNanos - lastTroubleNanos < 0) {
                stale = "waiting for Sentinel " + l.address + " to answer after the last event";
                continue;
            }
            group = Math.max(group, v.otherSentinels + 1);
            failoverTimeoutNanos = Math.max(failoverTimeoutNanos, v.failoverTimeoutNanos);
            String runId = v.runId == null || v.runId.isEmpty() ? probedRunId(v.address) : v.runId;
            if (!v.flags.equals("master") || runId == null || v.healthyReplicas < 0) {
                String what = "Sentinel " + l.address + " reports master " + v.address + " flags '" + v.flags + "'"
                        + (runId == null ? " without a run id yet" : "")
                        + (v.healthyReplicas < 0 ? " and could not list its replicas" : "");
                if (blocksWrites(v.flags)) {
                    trouble = what;
                } else {
                    stale = what; // one Sentinel that cannot see the master does not start a failover alone
                }
                continue;
            }
            String key = v.address + " " + runId;
            agree.merge(key, 1, Integer::sum);
            replicas.merge(key, v.healthyReplicas, Math::max);
            epochs.merge(key, v.configEpoch, Math::min);
        }
        // the majority of the whole group, not just of the Sentinels configured here: a majority of
        // a subset need not intersect the majority that votes a failover through
        int majority = group / 2 + 1;
        if (group > links.size() && !warnedGroupSize) {
            warnedGroupSize = true;
            LOG.warn("sink.sentinels lists {} Sentinels but the group of '{}' has {}: list them all; the write gate "
                    + "needs {} of them to answer", links.size(), config.masterName(), group, majority);
        }
        if (answering < majority) {
            gate.close("only " + answering + " of " + group + " Sentinels answer (a majority, " + majority
                    + ", is needed)");
            return;
        }
        if (trouble != null) {
            gate.close(trouble);
            return;
        }
        for (Map.Entry<String, Integer> e : agree.entrySet()) {
            if (e.getValue() >= majority) {
                String[] f = e.getKey().split(" ");
                long epoch = epochs.get(e.getKey());
                if (epoch < pendingEpoch && now - pendingEpochNanos < Math.max(failoverTimeoutNanos, 1)) {
                    // Sentinels voted in a failover of epoch pendingEpoch, and the master they name has
                    // an older configuration: the leader may be promoting a replica that some of them
                    // have not heard of yet. Wait until the new configuration reaches them, or until the
                    // failover must have been given up (failover-timeout).
                    gate.close("a failover of epoch " + pendingEpoch + " was voted on and the Sentinels still name "
                            + f[0] + " of config epoch " + epoch);
                    return;
                }
                if (!f[0].equals(master)) {
                    LOG.info("Sentinels name {} as master of '{}'", f[0], config.masterName());
                }
                master = f[0];
                gate.open(f[0], f[1], replicas.get(e.getKey()));
                return;
            }
        }
        gate.close(stale != null ? "no majority agrees on a healthy master yet (" + stale + ")"
                : "Sentinels disagree about the master: " + agree.keySet());
    }

    /**
     * Flags of a master in one Sentinel's view that forbid writes whatever the others say: a
     * failover is under way or agreed. {@code s_down} or {@code disconnected} alone (one
     * Sentinel cannot reach the master) only keeps that Sentinel out of the majority: a
     * failover would need others to agree, and their votes are published.
     */
    static boolean blocksWrites(String flags) {
        for (String f : flags.split(",")) {
            if (!f.equals("master") && !f.equals("s_down") && !f.equals("disconnected")) {
                return true;
            }
        }
        return false;
    }

    /** An event from a Sentinel's pub/sub: trouble closes the gate now. */
    void onEvent(String sentinel, String channel, String payload) {
        if (!isTrouble(channel, payload, config.masterName())) {
            return;
        }
        troubleEvents.inc();
        lastTroubleNanos = clock.getAsLong();
        long epoch = failoverEpoch(channel, payload);
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
                LOG.warn("Failover of '{}' announced by Sentinel {}: {}", config.masterName(), sentinel, payload);
            }
        }
        gate.close("Sentinel " + sentinel + ": " + channel + " " + payload);
    }

    /** The epoch a {@code +new-epoch} ({@code "<epoch>"}) or {@code +vote-for-leader} ({@code "<runid> <epoch>"}) names, else 0. */
    static long failoverEpoch(String channel, String payload) {
        try {
            if (channel.equals("+new-epoch")) {
                return Long.parseLong(payload.trim());
            }
            if (channel.equals("+vote-for-leader")) {
                String[] f = payload.trim().split(" ");
                return Long.parseLong(f[f.length - 1]);
            }
        } catch (NumberFormatException e) {
            LOG.warn("Unexpected Sentinel event payload: {} {}", channel, payload);
        }
        return 0;
    }

    /**
     * True for an event that may mean the master is failing or being replaced. Payloads name
     * the instance first ({@code master <name> <ip> <port>} or {@code <type> <name> <ip> <port>
     * @ <master> <ip> <port>}); a few (epochs, votes, TILT) name no master and count for any.
     */
    static boolean isTrouble(String channel, String payload, String masterName) {
        if (HARMLESS.contains(channel) || channel.startsWith("__")) {
            return false;
        }
        if (channel.equals("+new-epoch") || channel.equals("+vote-for-leader") || channel.equals("+tilt")) {
            return true;
        }
        if (channel.equals("+switch-master")) {
            return payload.startsWith(masterName + " ");
        }
        String[] f = payload.split(" ");
        boolean aboutMaster = f.length >= 2 && f[0].equals("master") && f[1].equals(masterName);
        boolean underMaster = false;
        for (int i = 0; i + 1 < f.length; i++) {
            if (f[i].equals("@") && f[i + 1].equals(masterName)) {
                underMaster = true;
                break;
            }
        }
        if (aboutMaster) {
            return true;
        }
        if (!underMaster) {
            return false;
        }
        // about a replica or Sentinel of our master: only failover steps and a replica's
        // odd role are trouble; a replica or Sentinel going down or up is not
        return !(f[0].equals("slave") || f[0].equals("sentinel"))
                || !(channel.equals("+sdown") || channel.equals("-sdown") || channel.equals("+odown")
                        || channel.equals("-odown"));
    }

    /** One poll of a Sentinel's view of the master. */
    /**
     * One poll of a Sentinel's view of the master.
     *
     * @param healthyReplicas replicas listed with no flag but {@code slave}; -1 when the Sentinel
     *     could not list them (the view then cannot open the gate: {@code all} would be guessed)
     * @param configEpoch the master's configuration epoch (a successful failover raises it)
     * @param otherSentinels how many other Sentinels this one knows for the master
     */
    record View(long polledAtNanos, String address, String runId, String flags, int healthyReplicas,
            long configEpoch, int otherSentinels, long failoverTimeoutNanos) {}

    /** Both connections to one Sentinel. Confined to the event loop. */
    final class Link {
        final String address;
        final String host;
        final int port;
        Channel events;
        Channel viewChannel;
        long lastPongNanos;
        long lastViewNanos;
        boolean answeredEvents;
        boolean answeredView;
        View view; // the last complete poll
        final ArrayDeque<Long> pollsSent = new ArrayDeque<>();

        Link(String address) {
            this.address = address;
            int colon = address.lastIndexOf(':');
            this.host = address.substring(0, colon);
            this.port = Integer.parseInt(address.substring(colon + 1));
        }

        boolean answering(long now) {
            long timeout = config.sentinelTimeout().toNanos();
            return answeredEvents && answeredView && now - lastPongNanos <= timeout && now - lastViewNanos <= timeout;
        }

        void heartbeat(long now) {
            if (events != null && events.isActive()) {
                events.writeAndFlush(command("PING"));
            }
            if (viewChannel != null && viewChannel.isActive() && pollsSent.size() < 4) {
                // at most a few polls outstanding: a Sentinel that stopped answering is not flooded
                pollsSent.add(now);
                viewChannel.write(command("SENTINEL", "MASTER", config.masterName()));
                viewChannel.writeAndFlush(command("SENTINEL", "REPLICAS", config.masterName()));
            }
        }

        void connect(boolean forEvents) {
            if (closed) {
                return;
            }
            new Bootstrap().group(group).channel(Transport.get().socketChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new RedisDecoder(), new RedisBulkStringAggregator(),
                                    new RedisArrayAggregator(), new RedisEncoder(),
                                    forEvents ? new EventsHandler(Link.this) : new ViewHandler(Link.this));
                        }
                    })
                    .connect(host, port)
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            LOG.debug("Sentinel {} unreachable: {}", address, f.cause().toString());
                            group.schedule(() -> connect(forEvents), RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
                        }
                    });
        }
    }

    private abstract class LinkHandler extends SimpleChannelInboundHandler<RedisMessage> {
        final Link link;
        boolean authPending;

        LinkHandler(Link link) {
            this.link = link;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            channels.add(ctx.channel());
            if (config.sentinelPassword() != null) {
                authPending = true;
                ctx.write(command("AUTH", config.sentinelPassword()));
            }
            active(ctx);
        }

        abstract void active(ChannelHandlerContext ctx);

        abstract void inactive();

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            channels.remove(ctx.channel());
            inactive();
            evaluate();
            if (!closed) {
                LOG.debug("Lost Sentinel {}; reconnecting", link.address);
                ctx.channel().eventLoop().schedule(() -> link.connect(this instanceof EventsHandler),
                        RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("Sentinel {} connection failed: {}", link.address, cause.toString());
            ctx.close();
        }
    }

    /** PSUBSCRIBE * and PINGs; every event is read in order before the PONG that follows it. */
    private final class EventsHandler extends LinkHandler {
        EventsHandler(Link link) {
            super(link);
        }

        @Override
        void active(ChannelHandlerContext ctx) {
            link.events = ctx.channel();
            ctx.writeAndFlush(command("PSUBSCRIBE", "*"));
            eventsConnected(link.address);
        }

        @Override
        void inactive() {
            link.events = null;
            link.answeredEvents = false;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RedisMessage msg) {
            if (msg instanceof ErrorRedisMessage err) {
                if (authPending) {
                    LOG.warn("Sentinel {} refused AUTH: {}", link.address, err.content());
                } else {
                    LOG.warn("Sentinel {} answered: {}", link.address, err.content());
                }
                authPending = false;
                return;
            }
            if (authPending) {
                authPending = false;
                return;
            }
            if (!(msg instanceof ArrayRedisMessage arr) || arr.children().isEmpty()) {
                return;
            }
            List<RedisMessage> parts = arr.children();
            String kind = text(parts.get(0));
            if ("pong".equalsIgnoreCase(kind)) {
                recordPong(links.indexOf(link));
            } else if ("pmessage".equals(kind) && parts.size() == 4) {
                String channel = text(parts.get(2));
                String payload = text(parts.get(3));
                if (channel != null && payload != null) {
                    onEvent(link.address, channel, payload);
                }
            }
        }
    }

    /** SENTINEL MASTER + SENTINEL REPLICAS, one pair per heartbeat, answered in order. */
    private final class ViewHandler extends LinkHandler {
        private View partial;

        ViewHandler(Link link) {
            super(link);
        }

        @Override
        void active(ChannelHandlerContext ctx) {
            link.viewChannel = ctx.channel();
            link.pollsSent.clear();
        }

        @Override
        void inactive() {
            link.viewChannel = null;
            link.answeredView = false;
            link.view = null;
            link.pollsSent.clear();
            partial = null;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RedisMessage msg) {
            if (authPending) {
                authPending = false;
                if (msg instanceof ErrorRedisMessage err) {
                    LOG.warn("Sentinel {} refused AUTH: {}", link.address, err.content());
                }
                return;
            }
            if (partial == null) { // the SENTINEL MASTER reply
                Long sentAt = link.pollsSent.poll();
                if (sentAt == null) {
                    return;
                }
                if (msg instanceof ErrorRedisMessage err) {
                    LOG.warn("Sentinel {} does not know master '{}': {}", link.address, config.masterName(),
                            err.content());
                    partial = new View(sentAt, "unknown", null, "unknown-master", -1, 0, 0, 0);
                    return;
                }
                Map<String, String> f = fields(msg);
                partial = new View(sentAt, f.getOrDefault("ip", "?") + ":" + f.getOrDefault("port", "?"),
                        f.get("runid"), f.getOrDefault("flags", "?"), 0, number(f.get("config-epoch")),
                        (int) number(f.get("num-other-sentinels")),
                        TimeUnit.MILLISECONDS.toNanos(number(f.get("failover-timeout"))));
                return;
            }
            int healthy = -1; // the SENTINEL REPLICAS reply; an error leaves the count unknown
            if (msg instanceof ArrayRedisMessage arr) {
                healthy = 0;
                for (RedisMessage r : arr.children()) {
                    Map<String, String> replica = fields(r);
                    // a node that still reports itself master (an old master restarted after the
                    // failover, not yet re-pointed) replicates nothing and cannot confirm a WAIT;
                    // Sentinel ranks it last (no replication offset) and converts it within an INFO period
                    if ("slave".equals(replica.get("flags"))
                            && !"master".equals(replica.get("role-reported"))) {
                        healthy++;
                    }
                }
            } else if (msg instanceof ErrorRedisMessage err) {
                LOG.warn("Sentinel {} cannot list the replicas of '{}': {}", link.address, config.masterName(),
                        err.content());
            }
            View p = partial;
            partial = null;
            recordView(link, new View(p.polledAtNanos(), p.address(), p.runId(), p.flags(), healthy, p.configEpoch(),
                    p.otherSentinels(), p.failoverTimeoutNanos()));
        }
    }

    private static long number(String s) {
        try {
            return s == null ? 0 : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    // ---- a new master's run id, before the Sentinels have it ----

    private String probedAddress;
    private String probedRunId;
    private long probedAtNanos;
    private boolean probing;

    /**
     * The run id of {@code address} as the node itself said after the last trouble, or null (and
     * a probe is started). A Sentinel learns a promoted master's run id only from its next
     * {@code INFO}, seconds after {@code +switch-master}; the write script's fence needs it now.
     * Asking the node the majority names is as good: the fence only has to tell that node from
     * any other.
     */
    private String probedRunId(String address) {
        if (address.equals(probedAddress) && probedRunId != null && probedAtNanos - lastTroubleNanos >= 0) {
            return probedRunId;
        }
        if (!probing && !closed && address.indexOf(':') > 0) {
            probing = true;
            long sentAt = clock.getAsLong();
            int colon = address.lastIndexOf(':');
            new Bootstrap().group(group).channel(Transport.get().socketChannel())
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) config.connectTimeout().toMillis())
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new io.netty.handler.timeout.ReadTimeoutHandler(
                                    config.sentinelTimeout().toMillis(), TimeUnit.MILLISECONDS),
                                    new RedisDecoder(), new RedisBulkStringAggregator(), new RedisArrayAggregator(),
                                    new RedisEncoder(), new RunIdProbe(address, sentAt));
                        }
                    })
                    .connect(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)))
                    .addListener(f -> {
                        if (!f.isSuccess()) {
                            probing = false;
                        }
                    });
        }
        return null;
    }

    /** AUTH (when a password is set), {@code INFO server}, read {@code run_id}, close. */
    private final class RunIdProbe extends SimpleChannelInboundHandler<RedisMessage> {
        private final String address;
        private final long sentAt;
        private boolean authPending;

        RunIdProbe(String address, long sentAt) {
            this.address = address;
            this.sentAt = sentAt;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (config.password() != null) {
                authPending = true;
                ctx.write(command("AUTH", config.password()));
            }
            ctx.writeAndFlush(command("INFO", "server"));
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, RedisMessage msg) {
            if (authPending) {
                authPending = false;
                if (msg instanceof ErrorRedisMessage err) {
                    LOG.warn("Redis node {} refused AUTH: {}", address, err.content());
                }
                return;
            }
            String info = text(msg);
            if (info != null) {
                for (String line : info.split("\r?\n")) {
                    if (line.startsWith("run_id:")) {
                        probedAddress = address;
                        probedRunId = line.substring(7).trim();
                        probedAtNanos = sentAt;
                    }
                }
            }
            ctx.close();
            evaluate();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            probing = false;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    // ---- what the connections report; package-private so tests can play Sentinels ----

    /** A complete poll of one Sentinel's view. */
    void recordView(Link link, View v) {
        link.view = v;
        link.lastViewNanos = clock.getAsLong();
        link.answeredView = true;
        evaluate();
    }

    void recordView(int sentinel, View v) {
        recordView(links.get(sentinel), v);
    }

    /** A PONG on one Sentinel's events connection: every event it published before is read. */
    void recordPong(int sentinel) {
        Link l = links.get(sentinel);
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

    private static Map<String, String> fields(RedisMessage m) {
        Map<String, String> f = new HashMap<>();
        if (m instanceof ArrayRedisMessage arr) {
            List<RedisMessage> c = arr.children();
            for (int i = 0; i + 1 < c.size(); i += 2) {
                f.put(text(c.get(i)), text(c.get(i + 1)));
            }
        }
        return f;
    }

    private static ArrayRedisMessage command(String... words) {
        List<RedisMessage> parts = new ArrayList<>(words.length);
        for (String w : words) {
            parts.add(new FullBulkStringRedisMessage(Unpooled.copiedBuffer(w, StandardCharsets.UTF_8)));
        }
        return new ArrayRedisMessage(parts);
    }

    private static String text(RedisMessage m) {
        if (m instanceof FullBulkStringRedisMessage b) {
            return b.isNull() ? null : b.content().toString(StandardCharsets.UTF_8);
        }
        if (m instanceof SimpleStringRedisMessage s) {
            return s.content();
        }
        return null;
    }
}
