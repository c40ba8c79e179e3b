package dev.spillway.chaos.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.spillway.chaos.topology.Checkout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes the commands' JSON results ({@code bench}'s table, {@code chaos run}'s report), indented. */
final class JsonFile {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonFile() {}

    /** Writes {@code value} to {@code path} (a relative one under the checkout's root) and returns where. */
    static Path write(Path path, Object value) throws IOException {
        Path file = path.isAbsolute() ? path : Checkout.root().resolve(path);
        Files.createDirectories(file.getParent());
        JSON.writeValue(file.toFile(), value);
        return file;
    }
}
