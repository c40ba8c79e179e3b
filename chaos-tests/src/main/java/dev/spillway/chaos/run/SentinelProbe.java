package dev.spillway.chaos.run;

import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisPubSub;

/**
 * What the Sentinel faults need of the group, over the network whatever the backend (processes,
 * containers on host networking, remote addresses): a watch on Sentinels' event channels that
 * acts the moment one announces an event, and the waits that tell a fault the group has settled.
 * Every wait is bounded.
 */
final class SentinelProbe {

    static final String MASTER_NAME = "mymaster";

    private SentinelProbe() {}

    static Jedis jedis(Topology t, String node, int timeoutMillis) {
        return new Jedis(HostAndPort.from(t.address(node)), DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeoutMillis).socketTimeoutMillis(timeoutMillis).build());
    }

    /**
     * Subscriptions to {@code channel} on every Sentinel, each on its own connection and thread.
     * The first message on any of them runs {@code action} (once, on that subscriber's thread,
     * so nothing stands between the announcement and the action) and is kept as {@link #first()}.
     */
    static final class Watch implements Closeable {
        private final List<Jedis> connections = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        private final List<String> subscribed = new ArrayList<>();
        private final AtomicReference<String> first = new AtomicReference<>();
        private final CountDownLatch fired = new CountDownLatch(1);
        private final Runnable action;
        private volatile long firedAtNanos;

        private Watch(Runnable action) {
            this.action = action;
        }

        /**
         * Subscribes on every Sentinel of {@code t} and returns once each has confirmed (or
         * {@code timeout} passed: a dead or frozen Sentinel cannot confirm; {@link #subscribed()}
         * says which did).
         */
        static Watch open(Topology t, String channel, Runnable action, Duration timeout) throws IOException {
            Watch w = new Watch(action);
            List<String> sentinels = t.sentinelNodes();
            CountDownLatch ready = new CountDownLatch(sentinels.size());
            for (String s : sentinels) {
                Jedis j;
                try {
                    j = new Jedis(HostAndPort.from(t.address(s)), DefaultJedisClientConfig.builder()
                            .connectionTimeoutMillis(1000).socketTimeoutMillis(0).build());
                    j.connect();
                } catch (RuntimeException e) {
                    ready.countDown();
                    continue; // a dead Sentinel: the others announce the promotion too, or the leader is among them
                }
                w.connections.add(j);
                JedisPubSub sub = new JedisPubSub() {
                    @Override
                    public void onSubscribe(String ch, int count) {
                        synchronized (w.subscribed) {
                            w.subscribed.add(s);
                        }
                        ready.countDown();
                    }

                    @Override
                    public void onMessage(String ch, String message) {
                        w.fire(s + " " + ch + " " + message);
                    }
                };
                Thread th = new Thread(() -> {
                    try {
                        j.subscribe(sub, channel);
                    } catch (RuntimeException closed) {
                        // close() disconnects: the subscription ends here
                    }
                }, "sentinel-watch-" + s);
                th.setDaemon(true);
                th.start();
                w.threads.add(th);
            }
            try {
                ready.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                w.close();
                throw new IOException("interrupted", e);
            }
            if (w.subscribed().isEmpty()) {
                w.close();
                throw new IOException("no Sentinel confirmed a subscription to " + channel + " within " + timeout);
            }
            return w;
        }

        private void fire(String what) {
            if (first.compareAndSet(null, what)) {
                firedAtNanos = System.nanoTime();
                try {
                    action.run();
                } finally {
                    fired.countDown();
                }
            }
        }

        /** Runs the action now unless a message already did (e.g. after a timeout). */
        void fireNow(String why) {
            fire(why);
        }

        /** Waits for the first message (and its action's end); false on timeout. */
        boolean await(Duration timeout) throws IOException {
            try {
                return fired.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }

        String first() {
            return first.get();
        }

        long firedAtNanos() {
            return firedAtNanos;
        }

        List<String> subscribed() {
            synchronized (subscribed) {
                return List.copyOf(subscribed);
            }
        }

        @Override
        public void close() {
            for (Jedis j : connections) {
                try {
                    j.disconnect();
                } catch (RuntimeException ignored) {
                    // already gone
                }
            }
            for (Thread th : threads) {
                try {
                    th.join(2_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** The fields of a Redis {@code INFO <section>} answer. */
    static Map<String, String> info(Jedis j, String section) {
        Map<String, String> m = new java.util.HashMap<>();
        for (String line : j.info(section).split("\r?\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && !line.startsWith("#")) {
                m.put(line.substring(0, colon), line.substring(colon + 1).trim());
            }
        }
        return m;
    }

    /**
     * Waits until {@code node} (a former master) replicates from {@code master} with its link up,
     * and every answering Sentinel lists it as a replica that is neither down nor disconnected:
     * the group has its two replicas again and can fail over to either. Returns how long it took.
     */
    static long awaitReplicaOf(Topology t, String node, String master, Duration timeout) throws IOException {
        long start = System.nanoTime();
        HostAndPort m = HostAndPort.from(t.address(master));
        String nodeAddress = t.address(node);
        // a replica of whichever node the Sentinels name now
        String last = "no answer";
        while (System.nanoTime() - start < timeout.toNanos()) {
            String current = t.currentMaster(); // the group may have moved on since (an earlier fault settling)
            if (current != null && !current.equals(node)) {
                m = HostAndPort.from(t.address(current));
            }
            try (Jedis j = jedis(t, node, 1000)) {
                Map<String, String> r = info(j, "replication");
                last = "role " + r.get("role") + ", master " + r.get("master_host") + ":" + r.get("master_port")
                        + ", link " + r.get("master_link_status");
                if ("slave".equals(r.get("role")) && String.valueOf(m.getPort()).equals(r.get("master_port"))
                        && "up".equals(r.get("master_link_status")) && sentinelsSeeReplica(t, nodeAddress)) {
                    return (System.nanoTime() - start) / 1_000_000;
                }
            } catch (RuntimeException notYet) {
                last = notYet.toString();
            }
            Fault.sleep(100);
        }
        throw new IOException(node + " did not come back as a replica of " + m + " within " + timeout + " ("
                + last + ")");
    }

    private static boolean sentinelsSeeReplica(Topology t, String address) {
        for (String s : t.sentinelNodes()) {
            try (Jedis j = jedis(t, s, 1000)) {
                boolean ok = false;
                for (Map<String, String> r : j.sentinelReplicas(MASTER_NAME)) {
                    String flags = r.getOrDefault("flags", "");
                    if (address.equals(r.get("name")) && flags.contains("slave") && !flags.contains("s_down")
                            && !flags.contains("disconnected")) {
                        ok = true;
                    }
                }
                if (!ok) {
                    return false;
                }
            } catch (RuntimeException frozenOrDead) {
                // a Sentinel that does not answer has no view to wait for
            }
        }
        return true;
    }

    /** Waits until every Sentinel answers and none is in TILT (a Sentinel in TILT does not act or vote). */
    static long awaitNoTilt(Topology t, Duration timeout) throws IOException {
        long start = System.nanoTime();
        String last = "";
        while (System.nanoTime() - start < timeout.toNanos()) {
            boolean ok = true;
            for (String s : t.sentinelNodes()) {
                try (Jedis j = jedis(t, s, 1000)) {
                    String tilt = info(j, "sentinel").get("sentinel_tilt");
                    if (!"0".equals(tilt)) {
                        ok = false;
                        last = s + " in TILT";
                    }
                } catch (RuntimeException e) {
                    ok = false;
                    last = s + ": " + e;
                }
            }
            if (ok) {
                return (System.nanoTime() - start) / 1_000_000;
            }
            Fault.sleep(200);
        }
        throw new IOException("Sentinels still in TILT or not answering after " + timeout + ": " + last);
    }
}
