package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code samples/bin/governor-sample} on a fresh copy of the repository (the files git tracks or
 * would track, no {@code target/}): it builds the jar itself with module progress on the console,
 * starts the sample on JDK 25, and a SIGINT to the whole process group, as a terminal's Ctrl-C
 * sends, gives the ordered shutdown and exit 0. A second start finds the jar and builds nothing,
 * and passes the AOT cache when {@code samples/target/sample.aot} exists.
 */
class SampleLauncherTest {
    private static final Duration BUILD_BOUND = Duration.ofMinutes(8);
    private static final Duration BOUND = Duration.ofSeconds(90);
    private static final Pattern STARTED = Pattern.compile("INFO dev\\.governor - started (\\S+) \\(attempt 0\\)");
    private static final Pattern STOPPED = Pattern.compile("INFO dev\\.governor - stopped (\\S+) in \\d+ ms");

    @Test
    void shouldBuildOnAFreshCloneThenStopInOrderOnCtrlCAndExitZero(@TempDir Path tmp) throws Exception {
        Path clone = freshCopy(tmp.resolve("governor"));
        assertThat(clone.resolve("samples/target")).doesNotExist();
        Path launcher = clone.resolve("samples/bin/governor-sample");
        String[] args = {launcher.toString(), "--port=0", "--metrics-port=0", "--flaky-fails=0", "--tick=60000"};

        try (ScriptRun run = ScriptRun.start(clone, Map.of(), args)) {
            run.awaitLine(l -> l.contains("governor ready"), BUILD_BOUND);
            List<String> progress = run.lines().stream()
                    .filter(l -> l.matches("governor-sample: Building .*\\[\\d+/\\d+\\]"))
                    .toList();
            assertThat(progress).as("one progress line per module, not silence").hasSizeGreaterThanOrEqualTo(3);
            assertThat(progress.getLast()).contains("samples");
            assertThat(run.output()).contains("governor-sample: BUILD SUCCESS");

            run.signalGroup("INT");
            assertThat(run.awaitExit(BOUND)).as(run.output()).isZero();
            assertOrderedShutdown(run.lines(), "SIGINT");
        }

        // the second start: jar found, no build; an AOT cache file is handed to the JVM
        Files.writeString(
                clone.resolve("samples/target/sample.aot"), "not a real cache: the JVM warns and runs without it");
        try (ScriptRun run = ScriptRun.start(clone, Map.of(), args)) {
            run.awaitLine(l -> l.contains("governor ready"), BOUND);
            assertThat(run.output()).doesNotContain("building");
            List<String> jvmArgs = List.of(ProcessHandle.of(run.pgid())
                    .orElseThrow()
                    .info()
                    .arguments()
                    .orElseThrow());
            assertThat(jvmArgs)
                    .as("exec'd JVM, same pid as the launcher")
                    .contains("-XX:AOTCache=" + clone.resolve("samples/target/sample.aot"), "-jar")
                    .as("as the systemd unit starts it: the jar's manifest grants what the flags would")
                    .doesNotContain("--add-opens", "--enable-native-access=ALL-UNNAMED");
            assertThat(run.output()).as("native access granted by the manifest").doesNotContain("restricted method");
            run.signalGroup("INT");
            assertThat(run.awaitExit(BOUND)).as(run.output()).isZero();
            assertOrderedShutdown(run.lines(), "SIGINT");
        }

        // --aot-cache makes a real cache (a training run up to READY=1), and the next start uses it:
        // with -XX:AOTMode=on a cache the JVM cannot use is an error, not a silent slow start
        Path cache = clone.resolve("samples/target/sample.aot");
        Files.delete(cache);
        try (ScriptRun run = ScriptRun.start(clone, Map.of(), launcher.toString(), "--aot-cache")) {
            assertThat(run.awaitExit(BUILD_BOUND)).as(run.output()).isZero();
            assertThat(run.output()).contains("AOT cache " + cache);
        }
        assertThat(Files.size(cache)).isGreaterThan(1_000_000);
        try (ScriptRun run = ScriptRun.start(clone, Map.of("JAVA_TOOL_OPTIONS", "-XX:AOTMode=on"), args)) {
            run.awaitLine(l -> l.contains("governor ready"), BOUND);
            assertThat(run.output()).doesNotContain("[error][aot]").doesNotContain("[warning][aot]");
            run.signalGroup("INT");
            assertThat(run.awaitExit(BOUND)).as(run.output()).isZero();
        }

        // a jar rebuilt after the cache: JDK 25.0.3 would run the cache's classes (JDK-8377932), so the
        // launcher leaves the cache out and says why
        Path jar;
        try (var jars = Files.list(clone.resolve("samples/target"))) {
            jar = jars.filter(p -> p.getFileName().toString().matches("samples-.*\\.jar")
                            && !p.getFileName().toString().matches(".*-(sources|javadoc|tests)\\.jar"))
                    .findFirst()
                    .orElseThrow();
        }
        Files.setLastModifiedTime(
                jar,
                java.nio.file.attribute.FileTime.from(
                        Files.getLastModifiedTime(cache).toInstant().plusSeconds(5)));
        try (ScriptRun run = ScriptRun.start(clone, Map.of(), args)) {
            run.awaitLine(l -> l.contains("governor ready"), BOUND);
            List<String> jvmArgs = List.of(ProcessHandle.of(run.pgid())
                    .orElseThrow()
                    .info()
                    .arguments()
                    .orElseThrow());
            assertThat(jvmArgs).noneMatch(arg -> arg.startsWith("-XX:AOTCache"));
            assertThat(run.output())
                    .contains("governor-sample: " + cache + " is older than " + jar)
                    .contains("JDK-8377932");
            run.signalGroup("INT");
            assertThat(run.awaitExit(BOUND)).as(run.output()).isZero();
        }
    }

    /** Every started service stopped, in reverse start order, after the signal; exit code 0 logged. */
    static void assertOrderedShutdown(List<String> lines, String signal) {
        List<String> started = names(lines, STARTED);
        List<String> stopped = names(lines, STOPPED);
        assertThat(started).as(String.join("\n", lines)).hasSizeGreaterThanOrEqualTo(4);
        assertThat(stopped).as(String.join("\n", lines)).isEqualTo(started.reversed());
        String all = String.join("\n", lines);
        assertThat(all)
                .contains("received " + signal, "shutting down: " + signal)
                .containsPattern("governor stopped in \\d+ ms, exit code 0");
        assertThat(all.indexOf("received " + signal)).isLessThan(all.indexOf("INFO dev.governor - stopped "));
    }

    private static List<String> names(List<String> lines, Pattern p) {
        return lines.stream()
                .map(p::matcher)
                .filter(Matcher::find)
                .map(m -> m.group(1))
                .toList();
    }

    /** The repository's files as a fresh clone would have them: tracked or untracked-but-not-ignored. */
    static Path freshCopy(Path into) throws IOException, InterruptedException {
        Path root = Path.of("").toAbsolutePath().getParent();
        Process ls = new ProcessBuilder("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
                .directory(root.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        byte[] out = ls.getInputStream().readAllBytes();
        assertThat(ls.waitFor()).as("git ls-files in " + root).isZero();
        for (String name : new String(out, StandardCharsets.UTF_8).split("\0")) {
            if (name.isEmpty()) {
                continue;
            }
            Path source = root.resolve(name);
            if (!Files.isRegularFile(source)) {
                continue; // deleted in the work tree but still in the index
            }
            Path target = into.resolve(name);
            Files.createDirectories(target.getParent());
            Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
        return into;
    }
}
