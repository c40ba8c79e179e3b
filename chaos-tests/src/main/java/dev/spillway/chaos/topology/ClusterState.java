package dev.spillway.chaos.topology;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What {@code ./spillway up} started, written to {@code <base>/state.json} so that {@code down},
 * {@code status} and the chaos commands can find the same processes by pid.
 */
public record ClusterState(List<NodeRecord> nodes, int respPort, int linePort, int httpPort, int statsPort,
        int passthroughPort, String runtimeSocket) {

    public record NodeRecord(String name, Node.Kind kind, int port, int probePort, String dir, List<String> command,
            long pid) {

        static NodeRecord of(Node n) {
            return new NodeRecord(n.name(), n.kind(), n.port(), n.probePort(), n.dir().toString(), n.command(), n.pid());
        }

        Node toNode() {
            ProcessNode n = new ProcessNode(name, kind, port, probePort, Path.of(dir), command);
            n.attach(pid);
            return n;
        }
    }

    static final String FILE = "state.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    void write(Path base) throws IOException {
        Path tmp = base.resolve(FILE + ".tmp");
        JSON.writeValue(tmp.toFile(), this);
        Files.move(tmp, base.resolve(FILE), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    static Optional<ClusterState> read(Path base) throws IOException {
        Path f = base.resolve(FILE);
        return Files.exists(f) ? Optional.of(JSON.readValue(f.toFile(), ClusterState.class)) : Optional.empty();
    }

    static void delete(Path base) throws IOException {
        Files.deleteIfExists(base.resolve(FILE));
    }
}
