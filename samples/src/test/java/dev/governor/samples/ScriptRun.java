package dev.governor.samples;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A shell script (a launcher, a docs script) run as a terminal would run it: in its own session and
 * process group ({@code setsid}), so a signal can go to the whole group as Ctrl-C does. Output
 * (stdout and stderr merged) is collected line by line; {@link #close()} kills the group by its id.
 */
final class ScriptRun implements AutoCloseable {
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    private ScriptRun(Process process) {
        this.process = process;
        this.reader = Thread.ofPlatform()
                .daemon()
                .name("script-output-" + process.pid())
                .start(this::read);
    }

    static ScriptRun start(Path dir, Map<String, String> env, String... command) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("setsid");
        cmd.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().putAll(env);
        return new ScriptRun(pb.start());
    }

    private void read() {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                synchronized (lines) {
                    lines.add(line);
                }
            }
        } catch (IOException e) {
            // the process is gone
        }
    }

    /** The group id: setsid made the script a session and group leader under its own pid. */
    long pgid() {
        return process.pid();
    }

    Process process() {
        return process;
    }

    List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    String output() {
        return String.join("\n", lines());
    }

    void awaitLine(Predicate<String> p, Duration bound) {
        await("a line of " + process.pid())
                .atMost(bound)
                .pollInterval(Duration.ofMillis(100))
                .failFast(
                        "the script ended first",
                        () -> !process.isAlive() && lines().stream().noneMatch(p))
                .until(() -> lines().stream().anyMatch(p));
    }

    /** Sends {@code signal} to every process of the group, as a terminal does on Ctrl-C. */
    void signalGroup(String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, "--", "-" + pgid())
                .inheritIO()
                .start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -" + signal + " -- -" + pgid() + " failed");
        }
    }

    int awaitExit(Duration bound) throws InterruptedException {
        if (!process.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running after " + bound + ":\n" + output());
        }
        reader.join(Duration.ofSeconds(10));
        return process.exitValue();
    }

    @Override
    public void close() throws IOException {
        try {
            if (process.isAlive()) {
                new ProcessBuilder("kill", "-KILL", "--", "-" + pgid())
                        .redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start()
                        .waitFor();
            }
            process.waitFor(30, TimeUnit.SECONDS);
            reader.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
