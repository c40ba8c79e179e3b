package dev.spillway.chaos.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.spillway.chaos.topology.Checkout;
import dev.spillway.chaos.topology.LocalCluster;
import dev.spillway.relay.config.ConfigLoader;
import dev.spillway.relay.config.RelayConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.WeightedPodAffinityTerm;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/kubernetes}, read into the Kubernetes API's own types (fabric8's model): every
 * document is a kind the relays need, with no field the API does not have (a misspelt field would
 * otherwise be dropped without a word by a lenient reader), and the manifests keep the promises
 * their comments make: one PersistentVolumeClaim per relay for the spill and never an emptyDir,
 * probes on the admin listener's readiness and liveness paths, a grace period that outlasts the
 * preStop sleep and the drain, a disruption budget and Services that select the relays, a
 * non-root read-only container, and a ConfigMap the relay itself accepts. No cluster runs here:
 * what the API server and the kubelet would do with them is not tested.
 */
class KubernetesManifestsTest {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/Namespace", Namespace.class,
            "v1/ConfigMap", ConfigMap.class,
            "v1/Service", Service.class,
            "apps/v1/StatefulSet", StatefulSet.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class);

    @TempDir
    Path tmp;

    @Test
    void theKustomizationListsEveryManifestAndEachIsAKnownKindWithNoUnknownField() throws Exception {
        Path dir = kubernetes();
        JsonNode kustomization = YAML.readTree(dir.resolve("kustomization.yaml").toFile());
        List<String> listed = new ArrayList<>();
        kustomization.path("resources").forEach(r -> listed.add(r.asText()));
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(listed).containsExactlyInAnyOrderElementsOf(files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml") && !n.equals("kustomization.yaml")).toList());
        }
        List<HasMetadata> all = manifests();
        assertThat(all).extracting(r -> r.getKind() + "/" + r.getMetadata().getName()).containsExactlyInAnyOrder(
                "Namespace/spillway", "ConfigMap/spillway-relay", "Service/spillway-relay-headless",
                "Service/spillway-relay", "StatefulSet/spillway-relay", "PodDisruptionBudget/spillway-relay");
        for (HasMetadata r : all) {
            assertThat(unknownFields(r)).as(r.getKind() + "/" + r.getMetadata().getName()).isEmpty();
        }
    }

    @Test
    void aMisspeltFieldIsCaught() throws Exception {
        String sts = Files.readString(kubernetes().resolve("statefulset.yaml"));
        assertThat(sts).contains("      terminationGracePeriodSeconds:", "            readOnlyRootFilesystem:");
        String typos = sts.replace("      terminationGracePeriodSeconds:", "      terminationGracePeriodSecond:")
                .replace("            readOnlyRootFilesystem:", "            readOnlyRootFileSystem:");
        List<HasMetadata> read = read(Files.writeString(tmp.resolve("statefulset.yaml"), typos));
        assertThat(unknownFields(read.get(0))).containsExactlyInAnyOrder(
                "spec.template.spec: [terminationGracePeriodSecond]",
                "spec.template.spec.containers[0].securityContext: [readOnlyRootFileSystem]");
    }

    @Test
    void theSpillIsAPersistentVolumeClaimPerRelayNeverAnEmptyDir() throws Exception {
        StatefulSet sts = one(StatefulSet.class);
        Path spill = relayConfig().spill().directory();
        PersistentVolumeClaim claim = sts.getSpec().getVolumeClaimTemplates().stream()
                .filter(c -> c.getMetadata().getName().equals("spill")).findFirst().orElseThrow();
        assertThat(claim.getSpec().getAccessModes()).containsExactly("ReadWriteOnce");
        Quantity size = claim.getSpec().getResources().getRequests().get("storage");
        assertThat(Quantity.getAmountInBytes(size).longValue()).as("room for spill.maxBytes and more")
                .isGreaterThan(relayConfig().spill().maxBytes());

        Container relay = relay(sts);
        VolumeMount atSpill = relay.getVolumeMounts().stream()
                .filter(m -> Path.of(m.getMountPath()).equals(spill)).findFirst().orElseThrow();
        assertThat(atSpill.getName()).as("the claim is what is mounted at spill.dir").isEqualTo("spill");
        assertThat(atSpill.getSubPath()).isNull();
        PodSpec pod = sts.getSpec().getTemplate().getSpec();
        assertThat(pod.getVolumes()).extracting(Volume::getName).as("a pod volume named spill would shadow the claim")
                .doesNotContain("spill");
        for (VolumeMount m : relay.getVolumeMounts()) {
            Path at = Path.of(m.getMountPath());
            if (m.getName().equals("spill")) {
                continue;
            }
            assertThat(spill.startsWith(at) || at.startsWith(spill))
                    .as(m.getName() + " at " + at + " must not hold or sit inside the spill directory " + spill).isFalse();
            Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals(m.getName())).findFirst().orElseThrow();
            assertThat(v.getHostPath()).as(v.getName()).isNull();
        }
        assertThat(sts.getSpec().getPersistentVolumeClaimRetentionPolicy().getWhenScaled()).isEqualTo("Retain");
        assertThat(sts.getSpec().getPersistentVolumeClaimRetentionPolicy().getWhenDeleted()).isEqualTo("Retain");
    }

    @Test
    void probesAskTheAdminListenerForReadinessAndLiveness() throws Exception {
        Container relay = relay(one(StatefulSet.class));
        RelayConfig cfg = relayConfig();
        assertThat(cfg.admin().host()).as("the kubelet probes the pod's IP").isEqualTo("0.0.0.0");
        HTTPGetAction ready = relay.getReadinessProbe().getHttpGet();
        HTTPGetAction live = relay.getLivenessProbe().getHttpGet();
        HTTPGetAction startup = relay.getStartupProbe().getHttpGet();
        assertThat(ready.getPath()).isEqualTo("/health/ready");
        assertThat(live.getPath()).isEqualTo("/health/live");
        assertThat(startup.getPath()).isEqualTo("/health/live");
        for (HTTPGetAction probe : List.of(ready, live, startup)) {
            assertThat(containerPort(relay, probe.getPort().getStrVal())).isEqualTo(cfg.admin().port());
        }
        assertThat(containerPort(relay, "resp")).isEqualTo(cfg.resp().port());
        assertThat(containerPort(relay, "line")).isEqualTo(cfg.line().port());
        assertThat(containerPort(relay, "http")).isEqualTo(cfg.http().port());
        for (var listener : List.of(cfg.resp(), cfg.line(), cfg.http())) {
            assertThat(listener.host()).isEqualTo("0.0.0.0");
        }
    }

    @Test
    void theGracePeriodOutlastsThePreStopSleepAndTheDrain() throws Exception {
        StatefulSet sts = one(StatefulSet.class);
        List<String> preStop = relay(sts).getLifecycle().getPreStop().getExec().getCommand();
        assertThat(preStop).hasSize(2).first().isEqualTo("sleep");
        Duration sleep = Duration.ofSeconds(Long.parseLong(preStop.get(1)));
        assertThat(sleep).as("long enough for the endpoints to drop the pod").isGreaterThanOrEqualTo(Duration.ofSeconds(3));
        Duration grace = Duration.ofSeconds(sts.getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds());
        assertThat(grace).as("terminationGracePeriodSeconds > preStop sleep + shutdown.drainTimeout, with room for the JVM")
                .isGreaterThanOrEqualTo(sleep.plus(relayConfig().drainTimeout()).plusSeconds(5));
        assertThat(relay(sts).getCommand()).as("java is PID 1 and gets SIGTERM itself").containsExactly("java");
        assertThat(relay(sts).getArgs())
                .containsExactly("-jar", "/opt/spillway/relay.jar", "serve", "--config", "/etc/spillway/relay.yaml");
    }

    @Test
    void theDisruptionBudgetAndTheServicesSelectTheRelays() throws Exception {
        StatefulSet sts = one(StatefulSet.class);
        Map<String, String> podLabels = sts.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(podLabels).containsAllEntriesOf(sts.getSpec().getSelector().getMatchLabels());
        PodDisruptionBudget pdb = one(PodDisruptionBudget.class);
        assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
        assertThat(pdb.getSpec().getMinAvailable()).isNull();
        assertThat(podLabels).containsAllEntriesOf(pdb.getSpec().getSelector().getMatchLabels());

        Map<String, Service> services = all(Service.class).stream()
                .collect(Collectors.toMap(s -> s.getMetadata().getName(), s -> s));
        Service headless = services.get(sts.getSpec().getServiceName());
        assertThat(headless).as("the StatefulSet's serviceName").isNotNull();
        assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
        Service producers = services.get("spillway-relay");
        for (Service s : List.of(headless, producers)) {
            assertThat(podLabels).as(s.getMetadata().getName()).containsAllEntriesOf(s.getSpec().getSelector());
            for (ServicePort p : s.getSpec().getPorts()) {
                assertThat(relay(sts).getPorts()).extracting(ContainerPort::getName).contains(p.getTargetPort().getStrVal());
            }
        }
        assertThat(producers.getSpec().getPorts()).extracting(p -> p.getTargetPort().getStrVal())
                .as("producers reach ingress, not the admin listener").containsExactlyInAnyOrder("resp", "line", "http");
        assertThat(producers.getSpec().getSessionAffinity()).isNull();

        WeightedPodAffinityTerm spread = sts.getSpec().getTemplate().getSpec().getAffinity().getPodAntiAffinity()
                .getPreferredDuringSchedulingIgnoredDuringExecution().get(0);
        assertThat(spread.getPodAffinityTerm().getTopologyKey()).isEqualTo("kubernetes.io/hostname");
        assertThat(podLabels).containsAllEntriesOf(spread.getPodAffinityTerm().getLabelSelector().getMatchLabels());
    }

    @Test
    void theRelayRunsAsTheImagesUserOnAReadOnlyRootWithNoCapabilities() throws Exception {
        StatefulSet sts = one(StatefulSet.class);
        PodSpec pod = sts.getSpec().getTemplate().getSpec();
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(10001L);
        assertThat(pod.getSecurityContext().getFsGroup()).as("the claim writable by the relay's user").isEqualTo(10001L);
        assertThat(pod.getEnableServiceLinks())
                .as("Service links would set SPILLWAY_RELAY_* variables, which the relay refuses at start").isFalse();
        Container relay = relay(sts);
        assertThat(relay.getImage()).isEqualTo("spillway/relay:" + projectVersion());
        assertThat(relay.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(relay.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(relay.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(relay.getSecurityContext().getCapabilities().getAdd()).isNullOrEmpty();
        assertThat(relay.getEnv()).extracting(e -> e.getName())
                .as("every SPILLWAY_* variable must name a setting").containsExactlyInAnyOrder("JDK_JAVA_OPTIONS",
                        "SPILLWAY_NAME");
        assertThat(relay.getEnv().stream().filter(e -> e.getName().equals("SPILLWAY_NAME")).findFirst().orElseThrow()
                .getValueFrom().getFieldRef().getFieldPath()).as("each relay named after its pod").isEqualTo("metadata.name");

        String jvm = relay.getEnv().stream().filter(e -> e.getName().equals("JDK_JAVA_OPTIONS")).findFirst()
                .orElseThrow().getValue();
        assertThat(jvm).as("the operator guide's JVM settings, as the local cluster runs them")
                .isEqualTo(String.join(" ", LocalCluster.RELAY_JVM_OPTIONS));
        long heap = Stream.of(jvm.split(" ")).filter(a -> a.startsWith("-Xmx")).map(a -> a.substring(4))
                .map(a -> Quantity.getAmountInBytes(new Quantity(a.replace("m", "Mi"))).longValue())
                .findFirst().orElseThrow();
        long limit = Quantity.getAmountInBytes(relay.getResources().getLimits().get("memory")).longValue();
        long request = Quantity.getAmountInBytes(relay.getResources().getRequests().get("memory")).longValue();
        assertThat(limit).as("memory limit above the heap, for direct buffers and the JVM itself").isGreaterThan(2 * heap);
        assertThat(request).isLessThanOrEqualTo(limit);
        assertThat(relay.getResources().getRequests()).containsKey("cpu");
    }

    @Test
    void theConfigMapIsARelayConfigurationWithItsSecretsFromTheSecretVolume() throws Exception {
        RelayConfig cfg = relayConfig();
        assertThat(cfg.sink().sentinels()).as("every Sentinel by its own address: the gate counts a majority of them")
                .hasSizeGreaterThanOrEqualTo(3).doesNotHaveDuplicates();
        assertThat(cfg.sink().password()).as("the Redis password from its file").isEqualTo("secret-from-the-secret-volume");
        assertThat(cfg.security().adminToken()).as("the admin token from its file").isNotNull();
        String passwordFile = relayYaml().path("sink").path("redis").path("passwordFile").asText();
        StatefulSet sts = one(StatefulSet.class);
        VolumeMount secrets = relay(sts).getVolumeMounts().stream().filter(m -> m.getName().equals("secrets"))
                .findFirst().orElseThrow();
        assertThat(Path.of(passwordFile).getParent()).isEqualTo(Path.of(secrets.getMountPath()));
        // the admin listener is on the pod's IP (probes): a relay there without a token does not start
        assertThat(cfg.admin().host()).isEqualTo("0.0.0.0");
        String adminTokenFile = relayYaml().path("security").path("adminTokenFile").asText();
        assertThat(Path.of(adminTokenFile).getParent()).isEqualTo(Path.of(secrets.getMountPath()));
        assertThat(secrets.getReadOnly()).isTrue();
        Volume secretVolume = sts.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals("secrets")).findFirst().orElseThrow();
        assertThat(secretVolume.getSecret().getSecretName()).isEqualTo("spillway-secrets");
        assertThat(secretVolume.getSecret().getDefaultMode()).as("0440: the relay's group reads it").isEqualTo(0440);
        VolumeMount config = relay(sts).getVolumeMounts().stream().filter(m -> m.getName().equals("config"))
                .findFirst().orElseThrow();
        assertThat(config.getMountPath()).isEqualTo("/etc/spillway/relay.yaml");
        assertThat(config.getSubPath()).isEqualTo("relay.yaml");
        assertThat(one(ConfigMap.class).getData()).containsOnlyKeys("relay.yaml");
    }

    // --- reading ---

    private static Path kubernetes() throws IOException {
        return Checkout.root().resolve("deploy/kubernetes");
    }

    private static List<HasMetadata> manifests() throws IOException {
        List<HasMetadata> out = new ArrayList<>();
        for (JsonNode r : YAML.readTree(kubernetes().resolve("kustomization.yaml").toFile()).path("resources")) {
            out.addAll(read(kubernetes().resolve(r.asText())));
        }
        return out;
    }

    private static List<HasMetadata> read(Path file) throws IOException {
        List<HasMetadata> out = new ArrayList<>();
        try (JsonParser parser = YAML.getFactory().createParser(file.toFile());
                MappingIterator<JsonNode> docs = YAML.readValues(parser, JsonNode.class)) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc == null || doc.isNull() || doc.isMissingNode()) {
                    continue;
                }
                String kind = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
                assertThat(KINDS).as(file + ": " + kind).containsKey(kind);
                out.add(YAML.treeToValue(doc, KINDS.get(kind)));
            }
        }
        return out;
    }

    private static <T extends HasMetadata> List<T> all(Class<T> type) throws IOException {
        return manifests().stream().filter(type::isInstance).map(type::cast).toList();
    }

    private static <T extends HasMetadata> T one(Class<T> type) throws IOException {
        List<T> found = all(type);
        assertThat(found).as(type.getSimpleName()).hasSize(1);
        return found.get(0);
    }

    private static Container relay(StatefulSet sts) {
        List<Container> containers = sts.getSpec().getTemplate().getSpec().getContainers();
        assertThat(containers).extracting(Container::getName).containsExactly("relay");
        return containers.get(0);
    }

    private static int containerPort(Container c, String name) {
        Optional<ContainerPort> port = c.getPorts().stream().filter(p -> name.equals(p.getName())).findFirst();
        assertThat(port).as("container port " + name).isPresent();
        return port.get().getContainerPort();
    }

    private static JsonNode relayYaml() throws IOException {
        return YAML.readTree(one(ConfigMap.class).getData().get("relay.yaml"));
    }

    /**
     * The ConfigMap's relay.yaml as the relay loads it in the pod: {@code SPILLWAY_NAME} from the
     * pod's name, and the Secret's files (whose place under the Secret's mount is checked above)
     * as files of this test's own. A relay build that does not know a secret-file setting yet
     * loads the rest.
     */
    private RelayConfig relayConfig() throws IOException {
        JsonNode yaml = relayYaml().deepCopy();
        secretFiles((ObjectNode) yaml.path("sink").path("redis"), "sink.redis.", "passwordFile", "sentinelPasswordFile");
        secretFiles((ObjectNode) yaml.path("security"), "security.", "adminTokenFile");
        Path file = Files.createTempFile(tmp, "relay", ".yaml");
        YAML.writeValue(file.toFile(), yaml);
        return ConfigLoader.load(file, Map.of("SPILLWAY_NAME", "spillway-relay-0"));
    }

    /** Each secret-file setting of {@code section} pointed at a file of this test's own. */
    private void secretFiles(ObjectNode section, String prefix, String... keys) throws IOException {
        for (String key : keys) {
            if (!section.has(key)) {
                continue;
            }
            if (ConfigLoader.settings().contains(prefix + key)) {
                Path secrets = Files.createDirectories(tmp.resolve("secrets"));
                Path file = secrets.resolve(Path.of(section.get(key).asText()).getFileName());
                Files.writeString(file, "secret-from-the-secret-volume");
                section.put(key, file.toString());
            } else {
                section.remove(key);
            }
        }
    }

    private static String projectVersion() throws IOException {
        String pom = Files.readString(Checkout.root().resolve("pom.xml"));
        Matcher m = Pattern.compile("<artifactId>spillway-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    /**
     * Fields the API types do not have, as {@code path: [names]}: fabric8's model keeps them in
     * {@code additionalProperties} instead of refusing them, so every object is walked.
     */
    static List<String> unknownFields(Object root) throws ReflectiveOperationException {
        List<String> out = new ArrayList<>();
        walk(root, "", out);
        return out;
    }

    private static void walk(Object o, String path, List<String> out) throws ReflectiveOperationException {
        if (o == null) {
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                walk(e, path + "[" + i++ + "]", out);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                walk(e.getValue(), path + "." + e.getKey(), out);
            }
            return;
        }
        if (!o.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : o.getClass().getMethods()) {
            String name = getter.getName();
            if (getter.getParameterCount() != 0 || !name.startsWith("get") || name.length() < 4
                    || getter.getDeclaringClass() == Object.class || java.lang.reflect.Modifier.isStatic(getter.getModifiers())) {
                continue;
            }
            Object value;
            try {
                value = getter.invoke(o);
            } catch (InvocationTargetException derivedValueThatDoesNotApply) {
                continue; // e.g. a Quantity's numerical amount: not a field
            }
            String field = Character.toLowerCase(name.charAt(3)) + name.substring(4);
            if (field.equals("additionalProperties")) {
                if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    out.add((path.isEmpty() ? "" : path.substring(1)) + ": " + extra.keySet());
                }
                continue;
            }
            walk(value, path + "." + field, out);
        }
    }
}
