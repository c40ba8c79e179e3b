package dev.spillway.chaos.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a real client (redis-cli, curl, node, …) as the tests drive it. */
final class Commands {

    /** A finished command: its exit status and its output, stdout and stderr together. */
    record Result(int exit, String out) {}

    private Commands() {}

    /**
     * Runs {@code cmd} to its end (at most {@code seconds}). The output is read while it runs, so a
     * client that prints more than a pipe holds does not stall.
     */
    static Result run(List<String> cmd, int seconds) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        var output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        boolean finished = p.waitFor(seconds, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly();
        }
        assertThat(finished).as("%s finished within %d s", cmd, seconds).isTrue();
        return new Result(p.exitValue(), output.get(10, TimeUnit.SECONDS));
    }

    /** Runs {@code cmd}, which must exit 0; its output. */
    static String ok(List<String> cmd, int seconds) throws Exception {
        Result r = run(cmd, seconds);
        assertThat(r.exit()).as("%s exit status; output: %s", cmd, r.out()).isZero();
        return r.out();
    }
}
