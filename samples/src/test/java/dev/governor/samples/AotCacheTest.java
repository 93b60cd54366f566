package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.runtime.systemd.NotifyReceiver;
import dev.governor.test.ChildJvm;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AOT cache recipe for real: a training run of the sample writes a cache, and a JVM started
 * with {@code -XX:AOTMode=on} (a cache it cannot use is then an error, not a silent fallback) uses
 * it and reaches {@code READY=1}. An AOT cache takes jars only, so the sample's classes are packed
 * into one first.
 */
class AotCacheTest {

    @Test
    void aTrainedCacheIsUsedAndTheSampleReachesReady(@TempDir Path dir) throws Exception {
        List<String> cp = new ArrayList<>();
        cp.add(jarOf(
                        Path.of(SampleDaemon.class
                                .getProtectionDomain()
                                .getCodeSource()
                                .getLocation()
                                .toURI()),
                        dir.resolve("sample.jar"))
                .toString());
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (entry.endsWith(".jar")) {
                cp.add(entry);
            }
        }
        List<String> app = List.of(
                "-cp",
                String.join(java.io.File.pathSeparator, cp),
                SampleDaemon.class.getName(),
                "--port=0",
                "--metrics-port=0");
        List<String> flags = ChildJvm.governorJvmArgs();
        Path cache = dir.resolve("sample.aot");

        AotCache.train(ChildJvm.javaExecutable(), flags, app, cache, Duration.ofMinutes(3));
        assertThat(cache).isRegularFile();
        assertThat(Files.size(cache)).isGreaterThan(1_000_000);

        List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaExecutable()));
        cmd.addAll(flags);
        cmd.addAll(List.of("-XX:AOTCache=" + cache, "-XX:AOTMode=on"));
        cmd.addAll(app);
        Path log = dir.resolve("run.log");
        try (NotifyReceiver systemd = NotifyReceiver.bind(
                "@governor-aot-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime())) {
            ProcessBuilder pb =
                    new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("NOTIFY_SOCKET", systemd.address());
            Process p = pb.start();
            try {
                assertThat(systemd.await(m -> m.has("READY", "1"), Duration.ofMinutes(1))
                                .text())
                        .contains("STATUS=");
                p.toHandle().destroy(); // SIGTERM
                assertThat(p.waitFor(1, TimeUnit.MINUTES)).isTrue();
                assertThat(p.exitValue())
                        .as("exit code; output:\n" + Files.readString(log))
                        .isZero();
            } finally {
                p.destroyForcibly().waitFor();
            }
        }
        assertThat(Files.readString(log))
                .as("the JVM used the cache without complaint")
                .doesNotContain("[error][aot]")
                .doesNotContain("[warning][aot]");
    }

    private static Path jarOf(Path classes, Path jar) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar);
                JarOutputStream j = new JarOutputStream(out);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                j.write(Files.readAllBytes(f));
                j.closeEntry();
            }
        }
        return jar;
    }
}
