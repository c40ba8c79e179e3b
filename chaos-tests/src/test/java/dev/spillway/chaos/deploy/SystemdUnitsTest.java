package dev.spillway.chaos.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.spillway.chaos.topology.Checkout;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.relay.config.ConfigLoader;
import dev.spillway.relay.config.RelayConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files in {@code deploy/systemd}: the relay unit passes {@code systemd-analyze verify} with
 * nothing to say (a warning, such as an unknown or misspelt directive, fails it as an error does),
 * keeps the promises its comments make (a stop that outlasts the drain, no restart loop on a
 * start-up refusal, the operator guide's JVM settings, the spill in its state directory), and the
 * sysusers.d and tmpfiles.d files create what the unit needs in an empty root.
 */
class SystemdUnitsTest {

    private static final String UNIT = "spillway-relay@.service";

    @TempDir
    Path tmp;

    @Test
    void theRelayUnitVerifiesWithoutAWord() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("units"));
        Files.copy(systemd().resolve(UNIT), dir.resolve(UNIT));
        Result r = verify(dir);
        assertThat(r.output()).as("systemd-analyze verify output").isEmpty();
        assertThat(r.exit()).isZero();
    }

    @Test
    void theVerificationCatchesAMisspeltDirectiveAndAMissingBinary() throws Exception {
        String unit = Files.readString(systemd().resolve(UNIT));
        assertThat(unit).contains("\nLimitNOFILE=", "\nExecStart=/usr/bin/java ");

        Path typo = Files.createDirectories(tmp.resolve("typo"));
        Files.writeString(typo.resolve(UNIT), unit.replace("\nLimitNOFILE=", "\nLimitNOFILES="));
        Result misspelt = verify(typo);
        assertThat(misspelt.output()).contains("Unknown key 'LimitNOFILES'");

        Path noJava = Files.createDirectories(tmp.resolve("no-java"));
        Files.writeString(noJava.resolve(UNIT), unit.replace("\nExecStart=/usr/bin/java ", "\nExecStart=/usr/bin/no-such-java "));
        Result missing = verify(noJava);
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.output()).contains("/usr/bin/no-such-java");
    }

    @Test
    void aStopDrainsAndAStartUpRefusalIsNotRestarted() throws Exception {
        Map<String, List<String>> s = service();
        Duration stop = seconds(one(s, "TimeoutStopSec"));
        assertThat(stop).as("TimeoutStopSec above shutdown.drainTimeout with room for the JVM to exit")
                .isGreaterThanOrEqualTo(RelayConfig.DEFAULT_DRAIN_TIMEOUT.plusSeconds(10));
        assertThat(one(s, "KillSignal")).isEqualTo("SIGTERM");
        assertThat(one(s, "KillMode")).isEqualTo("mixed");
        assertThat(one(s, "Restart")).isEqualTo("on-failure");
        // ServeCommand: 1 = cannot start (spill directory locked or unwritable), 2 = invalid configuration
        assertThat(one(s, "RestartPreventExitStatus").split(" ")).containsExactlyInAnyOrder("1", "2");
        int maxConnections = ConfigLoader.load(null, Map.of()).limits().maxConnections();
        assertThat(Long.parseLong(one(s, "LimitNOFILE")))
                .as("LimitNOFILE: limits.maxConnections with room for Redis, Sentinels, spill segments and the JVM")
                .isGreaterThanOrEqualTo(2L * maxConnections);
    }

    @Test
    void theSpillLivesInTheStateDirectoryOfAFixedUser() throws Exception {
        Map<String, List<String>> s = service();
        assertThat(one(s, "StateDirectory")).isEqualTo("spillway/%i");
        assertThat(s.get("Environment")).contains("SPILLWAY_SPILL_DIR=%S/spillway/%i", "SPILLWAY_NAME=%i");
        assertThat(one(s, "User")).isEqualTo("spillway");
        assertThat(s).doesNotContainKey("DynamicUser");
        assertThat(s).as("the JIT writes code it then runs").doesNotContainKey("MemoryDenyWriteExecute");
        assertThat(one(s, "ExecStart")).contains("$JAVA_OPTS", "-jar /opt/spillway/relay.jar serve",
                "--config /etc/spillway/%i.yaml");
        assertThat(s.get("Environment")).as("the operator guide's JVM settings, as the local cluster runs them")
                .contains("\"JAVA_OPTS=" + String.join(" ", LocalCluster.RELAY_JVM_OPTIONS) + "\"");
        for (String hardening : List.of("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp",
                "PrivateDevices", "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                "RestrictAddressFamilies", "CapabilityBoundingSet", "SystemCallFilter")) {
            assertThat(s).as(hardening).containsKey(hardening);
        }
        assertThat(one(s, "ProtectSystem")).isEqualTo("strict");
        assertThat(one(s, "CapabilityBoundingSet")).isEmpty();
    }

    @Test
    void sysusersAndTmpfilesCreateTheUserAndTheSecretsDirectory() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path etc = Files.createDirectories(root.resolve("etc"));
        for (String db : List.of("passwd", "group", "shadow", "gshadow")) {
            Files.writeString(etc.resolve(db), "");
        }
        Result users = run("systemd-sysusers", "--root=" + root,
                systemd().resolve("spillway.sysusers.conf").toAbsolutePath().toString());
        assertThat(users.exit()).as(users.output()).isZero();
        String passwd = Files.readString(etc.resolve("passwd"));
        assertThat(passwd).matches("(?s)spillway:x:\\d+:\\d+:Spillway relay:/var/lib/spillway:/usr/sbin/nologin\n");
        String gid = passwd.split(":")[3];

        Result dirs = run("systemd-tmpfiles", "--root=" + root, "--create",
                systemd().resolve("spillway.tmpfiles.conf").toAbsolutePath().toString());
        assertThat(dirs.exit()).as(dirs.output()).isZero();
        Path secrets = root.resolve("etc/spillway/secrets");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets))).isEqualTo("rwxr-x---");
        assertThat(Files.getAttribute(secrets, "unix:gid")).isEqualTo(Integer.parseInt(gid));
        assertThat(Files.getAttribute(secrets, "unix:uid")).isEqualTo(0);
        assertThat(root.resolve("var/lib/spillway")).isDirectory();
    }

    private static Path systemd() throws IOException {
        return Checkout.root().resolve("deploy/systemd");
    }

    /** Verifies the template through an instance, so that %i and the other specifiers expand. */
    private static Result verify(Path dir) throws Exception {
        return run("systemd-analyze", "verify", "--man=no", dir.resolve("spillway-relay@relay1.service").toString());
    }

    /** The [Service] section: every directive with its values in order (a directive may repeat). */
    private static Map<String, List<String>> service() throws IOException {
        Map<String, List<String>> out = new LinkedHashMap<>();
        String section = "";
        for (String raw : Files.readAllLines(systemd().resolve(UNIT))) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
                continue;
            }
            if (line.startsWith("[")) {
                section = line;
                continue;
            }
            int eq = line.indexOf('=');
            if (section.equals("[Service]") && eq > 0) {
                out.computeIfAbsent(line.substring(0, eq), k -> new ArrayList<>()).add(line.substring(eq + 1));
            }
        }
        return out;
    }

    private static String one(Map<String, List<String>> section, String key) {
        assertThat(section).containsKey(key);
        assertThat(section.get(key)).as(key).hasSize(1);
        return section.get(key).get(0);
    }

    private static Duration seconds(String systemdTime) {
        assertThat(systemdTime).matches("\\d+s");
        return Duration.ofSeconds(Long.parseLong(systemdTime.substring(0, systemdTime.length() - 1)));
    }

    private record Result(int exit, String output) {}

    private static Result run(String... command) throws Exception {
        Path out = Files.createTempFile("spillway-systemd", ".out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            p.getOutputStream().close();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", command) + " did not finish within 60 s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8).strip());
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
