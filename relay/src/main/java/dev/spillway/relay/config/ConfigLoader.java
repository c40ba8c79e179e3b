package dev.spillway.relay.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads a relay's configuration: the YAML file is bound onto {@link RelayFile} by Jackson, after
 * each {@code SPILLWAY_*} environment variable has been merged into the tree — its name is the
 * setting's path in upper snake case ({@code sink.ack.minReplicas} → {@code SPILLWAY_SINK_ACK_MIN_REPLICAS};
 * lists comma-separated). Unknown settings (in the file or the environment), wrong types and
 * invalid values fail with a message naming the setting, the value and what is expected.
 *
 * <p>Stateless; thread-safe.
 */
public final class ConfigLoader {

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()).registerModule(Units.module())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    /** Every setting's path, by the name of the environment variable that overrides it. */
    private static final Map<String, String> SETTINGS_BY_ENV = settings("", RelayFile.class).stream()
            .collect(Collectors.toMap(ConfigLoader::envName, p -> p, (a, b) -> a, TreeMap::new));

    private ConfigLoader() {}

    /** Loads {@code file} (null: defaults only) with overrides from {@code env}. */
    public static RelayConfig load(Path file, Map<String, String> env) {
        JsonNode root;
        try {
            String text = file == null ? null : Files.readString(file);
            if (text != null) {
                refuseUnquotedHashes(file, text);
            }
            root = text == null ? null : YAML.readTree(text);
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration " + file + ": " + e.getMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            root = YAML.createObjectNode();
        }
        if (!root.isObject()) {
            throw new ConfigException("configuration " + file + ": expected a YAML mapping at the top");
        }
        mergeEnvironment((ObjectNode) root, env);
        RelayFile bound;
        try {
            bound = YAML.treeToValue(root, RelayFile.class);
        } catch (IOException e) {
            throw translate(e);
        }
        return bound.toConfig();
    }

    /**
     * {@code password: #<sha256>} without quotes is a YAML comment: the setting would silently be
     * empty — no password at all. Refused, naming the line (not the hash).
     */
    private static void refuseUnquotedHashes(Path file, String text) {
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (UNQUOTED_HASH.matcher(lines[i]).find()) {
                throw new ConfigException("configuration " + file + " line " + (i + 1) + ": a '#<sha256>' secret "
                        + "must be quoted (\"#...\"); unquoted, YAML reads it as a comment and the setting as empty");
            }
        }
    }

    private static final Pattern UNQUOTED_HASH =
            Pattern.compile("^[^#\"']*[:-]\\s+#\\s*[0-9a-fA-F]{64}\\s*$");

    /** The paths of every setting, {@code sink.breaker.window} and so on, in file order. */
    public static List<String> settings() {
        return settings("", RelayFile.class);
    }

    static String envName(String path) {
        return "SPILLWAY_" + path.replace('.', '_').replaceAll("([a-z0-9])([A-Z])", "$1_$2").toUpperCase(Locale.ROOT);
    }

    private static List<String> settings(String prefix, Class<?> type) {
        return Arrays.stream(type.getRecordComponents()).flatMap(c -> {
            String path = prefix + fileName(c);
            return isSection(c) ? settings(path + ".", c.getType()).stream() : java.util.stream.Stream.of(path);
        }).toList();
    }

    /** The setting's name in the file: the component's, unless {@link JsonProperty} says otherwise. */
    private static String fileName(RecordComponent c) {
        JsonProperty p = c.getAccessor().getAnnotation(JsonProperty.class);
        if (p == null) {
            try {
                p = c.getDeclaringRecord().getDeclaredField(c.getName()).getAnnotation(JsonProperty.class);
            } catch (NoSuchFieldException e) {
                p = null;
            }
        }
        return p != null && !p.value().isEmpty() ? p.value() : c.getName();
    }

    private static boolean isSection(RecordComponent c) {
        return c.getType().isRecord() && c.getType().getEnclosingClass() == RelayFile.class;
    }

    private static void mergeEnvironment(ObjectNode root, Map<String, String> env) {
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (!name.startsWith("SPILLWAY_") || name.equals("SPILLWAY_LOG_LEVEL") || name.equals("SPILLWAY_LOG_FORMAT")) {
                continue;
            }
            String path = SETTINGS_BY_ENV.get(name);
            if (path == null) {
                throw new ConfigException("environment variable " + name + ": unknown setting (known: "
                        + String.join(", ", SETTINGS_BY_ENV.keySet()) + ")");
            }
            String[] parts = path.split("\\.");
            ObjectNode node = root;
            for (int i = 0; i < parts.length - 1; i++) {
                JsonNode child = node.get(parts[i]);
                node = child instanceof ObjectNode o ? o : node.putObject(parts[i]);
            }
            String leaf = parts[parts.length - 1];
            if (isListOfMappings(path)) {
                node.set(leaf, listOfMappings(name, e.getValue()));
            } else if (isList(path)) {
                ArrayNode list = node.putArray(leaf);
                Arrays.stream(e.getValue().split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(list::add);
            } else {
                node.put(leaf, e.getValue());
            }
        }
    }

    /**
     * A list of mappings ({@code security.users}) comes from its variable as one YAML flow
     * sequence (JSON is YAML too): {@code [{name: orders, password: "#…", keys: ["orders:*"]}]}.
     */
    private static JsonNode listOfMappings(String variable, String value) {
        JsonNode list;
        try {
            list = YAML.readTree(value);
        } catch (IOException e) {
            list = null;
        }
        if (list == null || !list.isArray()) {
            // the value may hold secrets: it is not repeated here
            throw new ConfigException("environment variable " + variable + ": not a YAML list (expected: e.g. "
                    + "[{name: orders, password: \"#<sha256>\", keys: [\"orders:*\"]}])");
        }
        return list;
    }

    private static boolean isListOfMappings(String path) {
        RecordComponent c = component(path);
        return List.class.isAssignableFrom(c.getType()) && c.getGenericType() instanceof ParameterizedType t
                && t.getActualTypeArguments()[0] instanceof Class<?> e && e.isRecord();
    }

    private static RecordComponent component(String path) {
        Class<?> type = RelayFile.class;
        RecordComponent c = null;
        for (String part : path.split("\\.")) {
            Class<?> in = type;
            c = Arrays.stream(in.getRecordComponents()).filter(r -> fileName(r).equals(part)).findFirst().orElseThrow();
            type = c.getType();
        }
        return c;
    }

    private static boolean isList(String path) {
        Class<?> type = RelayFile.class;
        String[] parts = path.split("\\.");
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            RecordComponent c = Arrays.stream(type.getRecordComponents()).filter(r -> fileName(r).equals(part))
                    .findFirst().orElseThrow();
            if (i == parts.length - 1) {
                return List.class.isAssignableFrom(c.getType());
            }
            type = c.getType();
        }
        return false;
    }

    /** Jackson's complaint, in the configuration's own words. */
    private static ConfigException translate(IOException e) {
        String path = e instanceof JsonMappingException m ? m.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[") : "";
        if (e instanceof UnrecognizedPropertyException u) {
            List<String> known = u.getKnownPropertyIds().stream().map(Objects::toString).toList();
            return new ConfigException(path + ": unknown setting (known here: " + String.join(", ", known) + ")", e);
        }
        if (e instanceof InvalidFormatException f) {
            return new ConfigException(path + ": '" + f.getValue() + "' (expected: " + expected(f) + ")", e);
        }
        if (e instanceof JsonMappingException m && m.getPath().size() > 0) {
            Type target = null;
            if (e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException mi) {
                target = mi.getTargetType();
            }
            String expected = target == null ? null : !path.contains("[") && SETTINGS_BY_ENV.containsValue(path)
                    && isListOfMappings(path) ? "a list of mappings" : describe(target);
            return new ConfigException(path + ": " + (target == null ? m.getOriginalMessage()
                    : "(expected: " + expected + ")"), e);
        }
        return new ConfigException("configuration: " + e.getMessage(), e);
    }

    private static String expected(InvalidFormatException f) {
        Class<?> t = f.getTargetType();
        if (t == java.time.Duration.class) {
            return Units.DURATION_EXPECTED;
        }
        if (t == Units.DataSize.class) {
            return Units.SIZE_EXPECTED;
        }
        if (t == Boolean.class) {
            return "true or false";
        }
        return describe(t);
    }

    private static String describe(Type t) {
        if (t == Integer.class || t == int.class || t == Long.class) {
            return "an integer";
        }
        if (t == Double.class || t == double.class) {
            return "a number";
        }
        if (t instanceof ParameterizedType || t instanceof Class<?> c && java.util.Collection.class.isAssignableFrom(c)) {
            return "a list of strings";
        }
        if (t instanceof Class<?> c && c.isRecord()) {
            return "a mapping";
        }
        return "a string";
    }
}
