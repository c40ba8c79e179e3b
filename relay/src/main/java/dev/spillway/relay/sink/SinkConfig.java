package dev.spillway.relay.sink;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Immutable settings of the Redis write path: where Sentinel is, the ack policy, batching and
 * the breaker/retry that guard it. Each default is defined once, here.
 */
public final class SinkConfig {

    public static final String DEFAULT_MASTER_NAME = "mymaster";
    public static final List<String> DEFAULT_SENTINELS =
            List.of("127.0.0.1:26379", "127.0.0.1:26380", "127.0.0.1:26381");
    /** {@code sink.ack.minReplicas: all}: WAIT for every healthy replica the Sentinels list (at least one). */
    public static final int ALL_REPLICAS = -1;
    public static final int DEFAULT_MIN_REPLICAS = ALL_REPLICAS;
    public static final String DEFAULT_DEAD_LETTER_KEY = "spillway:dead-letter";
    public static final Duration DEFAULT_SENTINEL_HEARTBEAT = Duration.ofMillis(100);
    public static final Duration DEFAULT_SENTINEL_TIMEOUT = Duration.ofMillis(500);
    public static final Duration DEFAULT_WAIT_TIMEOUT = Duration.ofMillis(500);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(1000);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofMillis(1000);
    public static final int DEFAULT_MAX_BATCH = 1000;
    public static final int DEFAULT_MAX_BATCH_BYTES = 4 * 1024 * 1024;
    public static final Duration DEFAULT_DEDUPE_TTL = Duration.ofDays(7);
    public static final String DEFAULT_DEDUPE_KEY_PREFIX = "spillway:hw:";
    public static final int DEFAULT_RETRY_ATTEMPTS = 3;
    public static final Duration DEFAULT_RETRY_WAIT = Duration.ofMillis(50);
    public static final Duration DEFAULT_BREAKER_WINDOW = Duration.ofSeconds(2);
    public static final int DEFAULT_BREAKER_MIN_CALLS = 3;
    public static final float DEFAULT_BREAKER_FAILURE_RATE = 50f;
    public static final Duration DEFAULT_BREAKER_OPEN_WAIT = Duration.ofMillis(500);
    public static final Duration DEFAULT_BREAKER_MAX_HALF_OPEN = Duration.ofSeconds(5);

    private final String masterName;
    private final List<String> sentinels;
    private final String username;
    private final String password;
    private final String sentinelUsername;
    private final String sentinelPassword;
    private final RedisTls tls;
    private final int minReplicas;
    private final String deadLetterKey;
    private final Duration sentinelHeartbeat;
    private final Duration sentinelTimeout;
    private final Duration waitTimeout;
    private final Duration timeout;
    private final Duration connectTimeout;
    private final int maxBatch;
    private final int maxBatchBytes;
    private final Duration dedupeTtl;
    private final String dedupeKeyPrefix;
    private final int retryAttempts;
    private final Duration retryWait;
    private final Duration breakerWindow;
    private final int breakerMinCalls;
    private final float breakerFailureRate;
    private final Duration breakerOpenWait;
    private final Duration breakerMaxHalfOpen;

    private SinkConfig(Builder b) {
        masterName = b.masterName;
        sentinels = List.copyOf(b.sentinels);
        username = b.username;
        password = b.password;
        sentinelUsername = b.sentinelUsername;
        sentinelPassword = b.sentinelPassword;
        tls = b.tls;
        minReplicas = b.minReplicas;
        deadLetterKey = b.deadLetterKey;
        sentinelHeartbeat = b.sentinelHeartbeat;
        sentinelTimeout = b.sentinelTimeout;
        waitTimeout = b.waitTimeout;
        timeout = b.timeout;
        connectTimeout = b.connectTimeout;
        maxBatch = b.maxBatch;
        maxBatchBytes = b.maxBatchBytes;
        dedupeTtl = b.dedupeTtl;
        dedupeKeyPrefix = b.dedupeKeyPrefix;
        retryAttempts = b.retryAttempts;
        retryWait = b.retryWait;
        breakerWindow = b.breakerWindow;
        breakerMinCalls = b.breakerMinCalls;
        breakerFailureRate = b.breakerFailureRate;
        breakerOpenWait = b.breakerOpenWait;
        breakerMaxHalfOpen = b.breakerMaxHalfOpen;
        check(masterName != null && !masterName.isBlank(), "sink.redis.masterName", masterName, "a Sentinel master name");
        check(!sentinels.isEmpty(), "sink.redis.sentinels", sentinels, "at least one host:port");
        for (String s : sentinels) {
            check(s.matches("[^:\\s]+:\\d{1,5}"), "sink.redis.sentinels", s, "host:port");
        }
        checkCredentials("sink.redis.username", username, "sink.redis.password", password);
        checkCredentials("sink.redis.sentinelUsername", sentinelUsername, "sink.redis.sentinelPassword",
                sentinelPassword);
        check(minReplicas >= 0 || minReplicas == ALL_REPLICAS, "sink.ack.minReplicas", minReplicas, ">= 0 or 'all'");
        check(deadLetterKey != null && !deadLetterKey.isEmpty(), "sink.deadLetterKey", deadLetterKey,
                "a non-empty key");
        check(positive(sentinelHeartbeat), "sink.redis.sentinelHeartbeat", sentinelHeartbeat, "> 0");
        check(positive(sentinelTimeout) && sentinelTimeout.compareTo(sentinelHeartbeat) > 0, "sink.redis.sentinelTimeout",
                sentinelTimeout, "> sink.redis.sentinelHeartbeat");
        check(positive(waitTimeout), "sink.ack.waitTimeout", waitTimeout, "> 0");
        check(positive(timeout), "sink.redis.timeout", timeout, "> 0");
        check(positive(connectTimeout), "sink.redis.connectTimeout", connectTimeout, "> 0");
        check(maxBatch > 0, "sink.batch.maxMessages", maxBatch, "> 0");
        check(maxBatchBytes > 0, "sink.batch.maxBytes", maxBatchBytes, "> 0");
        check(dedupeTtl.toSeconds() >= 60, "sink.dedupeTtl", dedupeTtl, ">= 60s");
        check(dedupeKeyPrefix != null && !dedupeKeyPrefix.isEmpty(), "sink.dedupeKeyPrefix", dedupeKeyPrefix,
                "a non-empty prefix");
        check(retryAttempts >= 1, "sink.retry.attempts", retryAttempts, ">= 1");
        check(!retryWait.isNegative(), "sink.retry.wait", retryWait, ">= 0");
        check(positive(breakerWindow) && breakerWindow.toSeconds() >= 1, "sink.breaker.window", breakerWindow,
                ">= 1s");
        check(breakerMinCalls >= 1, "sink.breaker.minCalls", breakerMinCalls, ">= 1");
        check(breakerFailureRate > 0 && breakerFailureRate <= 100, "sink.breaker.failureRate",
                breakerFailureRate, "in (0, 100]");
        check(positive(breakerOpenWait), "sink.breaker.openWait", breakerOpenWait, "> 0");
        check(positive(breakerMaxHalfOpen), "sink.breaker.maxHalfOpen", breakerMaxHalfOpen, "> 0");
    }

    /** A user needs a password (AUTH has no form without one); neither may be empty. */
    private static void checkCredentials(String userSetting, String user, String passwordSetting,
            String password) {
        check(user == null || !user.isBlank(), userSetting, "'" + user + "'", "an ACL user name, or no setting");
        check(password == null || !password.isEmpty(), passwordSetting, "''", "a password, or no setting");
        check(user == null || password != null, userSetting, user, "with " + passwordSetting + " or "
                + passwordSetting + "File: AUTH needs the user's password");
    }

    private static boolean positive(Duration d) {
        return d != null && !d.isNegative() && !d.isZero();
    }

    private static void check(boolean ok, String field, Object value, String expected) {
        if (!ok) {
            throw new IllegalArgumentException(field + ": " + value + " (expected: " + expected + ")");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public String masterName() {
        return masterName;
    }

    public List<String> sentinels() {
        return sentinels;
    }

    /** The ACL user on the Redis nodes, or null for the default user. */
    public String username() {
        return username;
    }

    /** Password of the Redis nodes (of {@link #username}), or null. */
    public String password() {
        return password;
    }

    /** The ACL user on the Sentinels, or null for the default user. */
    public String sentinelUsername() {
        return sentinelUsername;
    }

    /** Password of the Sentinels (of {@link #sentinelUsername}), or null. */
    public String sentinelPassword() {
        return sentinelPassword;
    }

    /** TLS towards the Redis nodes and the Sentinels, or null for plain TCP. */
    public RedisTls tls() {
        return tls;
    }

    /**
     * Replicas that must confirm a batch (WAIT) before it counts as written; 0 = master only;
     * {@link #ALL_REPLICAS} = every replica the Sentinels list as healthy (at least one).
     */
    public int minReplicas() {
        return minReplicas;
    }

    /** True when some replica must confirm every batch ({@code minReplicas} is N > 0 or all). */
    public boolean waitsForReplicas() {
        return minReplicas != 0;
    }

    /** The replicas to WAIT for when the Sentinels list {@code healthyReplicas} healthy ones. */
    public int replicasToWaitFor(int healthyReplicas) {
        return minReplicas == ALL_REPLICAS ? Math.max(1, healthyReplicas) : minReplicas;
    }

    /** {@code minReplicas} as written in the configuration: a number or {@code all}. */
    public String minReplicasText() {
        return minReplicas == ALL_REPLICAS ? "all" : Integer.toString(minReplicas);
    }

    /**
     * The list where replay puts acknowledged messages that Redis can never take (their key
     * holds another type), one JSON entry each.
     */
    public String deadLetterKey() {
        return deadLetterKey;
    }

    /** How often each Sentinel is pinged and polled for its view of the master. */
    public Duration sentinelHeartbeat() {
        return sentinelHeartbeat;
    }

    /** A Sentinel silent for longer no longer counts towards the majority the write gate needs. */
    public Duration sentinelTimeout() {
        return sentinelTimeout;
    }

    public Duration waitTimeout() {
        return waitTimeout;
    }

    /** Response timeout of one Redis call (WAIT's own timeout comes on top). */
    public Duration timeout() {
        return timeout;
    }

    public Duration connectTimeout() {
        return connectTimeout;
    }

    public int maxBatch() {
        return maxBatch;
    }

    public int maxBatchBytes() {
        return maxBatchBytes;
    }

    /** How long Redis keeps a relay incarnation's high-water mark after its last write. */
    public Duration dedupeTtl() {
        return dedupeTtl;
    }

    public String dedupeKeyPrefix() {
        return dedupeKeyPrefix;
    }

    public int retryAttempts() {
        return retryAttempts;
    }

    public Duration retryWait() {
        return retryWait;
    }

    public Duration breakerWindow() {
        return breakerWindow;
    }

    public int breakerMinCalls() {
        return breakerMinCalls;
    }

    public float breakerFailureRate() {
        return breakerFailureRate;
    }

    public Duration breakerOpenWait() {
        return breakerOpenWait;
    }

    public Duration breakerMaxHalfOpen() {
        return breakerMaxHalfOpen;
    }

    /** A call slower than this counts as slow: just above the longest a healthy call may take. */
    public Duration slowCallThreshold() {
        return timeout.plus(waitsForReplicas() ? waitTimeout : Duration.ZERO).plusMillis(50);
    }

    public static final class Builder {
        private String masterName = DEFAULT_MASTER_NAME;
        private List<String> sentinels = DEFAULT_SENTINELS;
        private String username;
        private String password;
        private String sentinelUsername;
        private String sentinelPassword;
        private RedisTls tls;
        private int minReplicas = DEFAULT_MIN_REPLICAS;
        private String deadLetterKey = DEFAULT_DEAD_LETTER_KEY;
        private Duration sentinelHeartbeat = DEFAULT_SENTINEL_HEARTBEAT;
        private Duration sentinelTimeout = DEFAULT_SENTINEL_TIMEOUT;
        private Duration waitTimeout = DEFAULT_WAIT_TIMEOUT;
        private Duration timeout = DEFAULT_TIMEOUT;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private int maxBatch = DEFAULT_MAX_BATCH;
        private int maxBatchBytes = DEFAULT_MAX_BATCH_BYTES;
        private Duration dedupeTtl = DEFAULT_DEDUPE_TTL;
        private String dedupeKeyPrefix = DEFAULT_DEDUPE_KEY_PREFIX;
        private int retryAttempts = DEFAULT_RETRY_ATTEMPTS;
        private Duration retryWait = DEFAULT_RETRY_WAIT;
        private Duration breakerWindow = DEFAULT_BREAKER_WINDOW;
        private int breakerMinCalls = DEFAULT_BREAKER_MIN_CALLS;
        private float breakerFailureRate = DEFAULT_BREAKER_FAILURE_RATE;
        private Duration breakerOpenWait = DEFAULT_BREAKER_OPEN_WAIT;
        private Duration breakerMaxHalfOpen = DEFAULT_BREAKER_MAX_HALF_OPEN;

        private Builder() {}

        public Builder masterName(String v) { masterName = v; return this; }
        public Builder sentinels(List<String> v) { sentinels = Objects.requireNonNull(v, "sentinels"); return this; }
        public Builder username(String v) { username = v; return this; }
        public Builder password(String v) { password = v; return this; }
        public Builder sentinelUsername(String v) { sentinelUsername = v; return this; }
        public Builder sentinelPassword(String v) { sentinelPassword = v; return this; }
        /** TLS towards Redis and Sentinel; null (the default) for plain TCP. */
        public Builder tls(RedisTls v) { tls = v; return this; }
        public Builder minReplicas(int v) { minReplicas = v; return this; }
        public Builder deadLetterKey(String v) { deadLetterKey = v; return this; }
        public Builder sentinelHeartbeat(Duration v) { sentinelHeartbeat = v; return this; }
        public Builder sentinelTimeout(Duration v) { sentinelTimeout = v; return this; }
        public Builder waitTimeout(Duration v) { waitTimeout = v; return this; }
        public Builder timeout(Duration v) { timeout = v; return this; }
        public Builder connectTimeout(Duration v) { connectTimeout = v; return this; }
        public Builder maxBatch(int v) { maxBatch = v; return this; }
        public Builder maxBatchBytes(int v) { maxBatchBytes = v; return this; }
        public Builder dedupeTtl(Duration v) { dedupeTtl = v; return this; }
        public Builder dedupeKeyPrefix(String v) { dedupeKeyPrefix = v; return this; }
        public Builder retryAttempts(int v) { retryAttempts = v; return this; }
        public Builder retryWait(Duration v) { retryWait = v; return this; }
        public Builder breakerWindow(Duration v) { breakerWindow = v; return this; }
        public Builder breakerMinCalls(int v) { breakerMinCalls = v; return this; }
        public Builder breakerFailureRate(float v) { breakerFailureRate = v; return this; }
        public Builder breakerOpenWait(Duration v) { breakerOpenWait = v; return this; }
        public Builder breakerMaxHalfOpen(Duration v) { breakerMaxHalfOpen = v; return this; }

        public SinkConfig build() {
            return new SinkConfig(this);
        }
    }
}
