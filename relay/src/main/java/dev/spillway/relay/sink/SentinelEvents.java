package dev.spillway.relay.sink;

import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a Sentinel's pub/sub event says about the master: trouble or not, and which failover
 * epoch it names. Payloads as Redis 7's {@code sentinel.c} formats them. Stateless.
 */
final class SentinelEvents {

    // logs under the watcher's name: operators filter the Sentinel view by one logger
    private static final Logger LOG = LoggerFactory.getLogger(SentinelWatcher.class);

    /** Events about replicas or Sentinels that say nothing about the master's fate. */
    private static final Set<String> HARMLESS = Set.of("+sentinel", "+slave", "-dup-sentinel", "+reboot",
            "+sentinel-address-switch", "+sentinel-invalid-addr", "+fix-slave-config", "+convert-to-slave",
            "+cmd-ok", "+cmd-error");

    private SentinelEvents() {}

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
}
