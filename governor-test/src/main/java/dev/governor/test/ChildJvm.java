package dev.governor.test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A main class run in a child JVM with the same java executable and class path as the test JVM,
 * its output captured line by line. {@link #close()} kills it by pid (never by name) if it still
 * runs, so a test leaves no process behind.
 *
 * <pre>{@code
 * try (ChildJvm child = ChildJvm.builder(MyDaemon.class).arg("--port=0").start()) {
 *     child.awaitOutput(line -> line.contains("ready"), Duration.ofSeconds(30));
 *     child.signal("TERM");
 *     assertThat(child.awaitExit(Duration.ofSeconds(30))).isEqualTo(0);
 * }
 * }</pre>
 */
public final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final List<String> output = new ArrayList<>();
    private final Thread reader;

    private ChildJvm(Process process) {
        this.process = process;
        this.reader =
                Thread.ofPlatform().daemon().name("child-jvm-" + process.pid()).start(this::readOutput);
    }

    /** A builder for running {@code mainClass} in a child JVM. */
    public static Builder builder(Class<?> mainClass) {
        return new Builder(mainClass.getName());
    }

    /** A builder for running the class named {@code mainClass} in a child JVM. */
    public static Builder builder(String mainClass) {
        return new Builder(mainClass);
    }

    /** The java executable of this JVM (so children use the same JDK). */
    public static String javaExecutable() {
        return ProcessHandle.current()
                .info()
                .command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** The class path of this JVM's tests (surefire's, when run by Maven). */
    public static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    /** JVM flags every Governor JVM needs (native access for the FFM calls), from the build's {@code governor.jvmArgs}. */
    public static List<String> governorJvmArgs() {
        String args = System.getProperty("governor.jvmArgs", "--enable-native-access=ALL-UNNAMED");
        return Arrays.stream(args.trim().split("\\s+"))
                .filter(s -> !s.isEmpty())
                .toList();
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    /** Sends a POSIX signal by name ({@code TERM}, {@code INT}, {@code HUP}, …) with {@code kill}. */
    public void signal(String name) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
                    .redirectErrorStream(true)
                    .start();
            if (!kill.waitFor(30, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + process.pid() + " failed: "
                        + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run kill", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling " + process.pid(), e);
        }
    }

    /** Waits for a line of output (stdout and stderr merged) that matches; returns it. */
    public String awaitOutput(Predicate<String> match, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        synchronized (output) {
            while (true) {
                for (; seen < output.size(); seen++) {
                    if (match.test(output.get(seen))) {
                        return output.get(seen);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!reader.isAlive() && seen == output.size())) {
                    throw new AssertionError("no matching line from pid " + process.pid() + " within " + timeout
                            + (reader.isAlive() ? "" : " (output ended)") + "; output so far:\n"
                            + String.join("\n", output));
                }
                output.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    /** Waits for the process to exit and returns its exit code; fails if it does not within {@code timeout}. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            throw new AssertionError(
                    "pid " + process.pid() + " still running after " + timeout + "; output:\n" + output());
        }
        reader.join(TimeUnit.SECONDS.toMillis(30));
        return process.exitValue();
    }

    /** Everything printed so far. */
    public String output() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    /** Lines printed so far. */
    public List<String> lines() {
        synchronized (output) {
            return List.copyOf(output);
        }
    }

    private void readOutput() {
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                synchronized (output) {
                    output.add(line);
                    output.notifyAll();
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        } finally {
            synchronized (output) {
                output.notifyAll();
            }
        }
    }

    /** Kills the process (SIGKILL, by pid) and its descendants if still alive. */
    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "ChildJvm[pid=" + process.pid() + ", alive=" + process.isAlive() + "]";
    }

    /** Options of a child JVM. */
    public static final class Builder {
        private final String mainClass;
        private final List<String> jvmArgs = new ArrayList<>(governorJvmArgs());
        private final List<String> args = new ArrayList<>();
        private final Map<String, String> env = new java.util.HashMap<>();
        private final List<String> removedEnv = new ArrayList<>();
        private Path directory;
        private List<String> commandPrefix = List.of();

        private Builder(String mainClass) {
            this.mainClass = Objects.requireNonNull(mainClass, "mainClass");
        }

        public Builder jvmArg(String arg) {
            jvmArgs.add(arg);
            return this;
        }

        public Builder arg(String... more) {
            args.addAll(List.of(more));
            return this;
        }

        public Builder env(String name, String value) {
            env.put(name, value);
            return this;
        }

        public Builder removeEnv(String name) {
            removedEnv.add(name);
            return this;
        }

        public Builder directory(Path dir) {
            this.directory = dir;
            return this;
        }

        /** Words put before the java command, e.g. {@code systemd-socket-activate -l 127.0.0.1:9000}. */
        public Builder commandPrefix(String... words) {
            this.commandPrefix = List.of(words);
            return this;
        }

        /** The full command line. */
        public List<String> command() {
            List<String> cmd = new ArrayList<>(commandPrefix);
            cmd.add(javaExecutable());
            cmd.addAll(jvmArgs);
            cmd.add("-cp");
            cmd.add(classPath());
            cmd.add(mainClass);
            cmd.addAll(args);
            return cmd;
        }

        public ChildJvm start() throws IOException {
            ProcessBuilder pb = new ProcessBuilder(command()).redirectErrorStream(true);
            pb.environment().putAll(env);
            removedEnv.forEach(pb.environment()::remove);
            if (directory != null) {
                pb.directory(directory.toFile());
            }
            return new ChildJvm(pb.start());
        }
    }
}
