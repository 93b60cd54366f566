package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A re-executed command line (daemonize, upgrade) keeps {@code -XX:AOTCache=} only while the cache
 * is newer than every jar it runs: JDK 25.0.3 runs a stale cache's classes instead of a replaced
 * jar's (JDK-8377932).
 */
class AotCacheCheckTest {
    private static final Instant MADE = Instant.parse("2026-12-01T10:00:00Z");

    @TempDir
    Path dir;

    private final List<String> warnings = new ArrayList<>();

    private Path file(String name, Instant modified) throws IOException {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        if (!Files.exists(p)) {
            Files.write(p, new byte[] {1});
        }
        Files.setLastModifiedTime(p, FileTime.from(modified));
        return p;
    }

    private Path jarWithClassPath(String name, String classPath, Instant modified) throws IOException {
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, classPath);
        Path p = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(p);
                JarOutputStream j = new JarOutputStream(out, m)) {
            j.flush();
        }
        Files.setLastModifiedTime(p, FileTime.from(modified));
        return p;
    }

    /** {@code cmd} as the launcher rebuilds it (its paths are absolute already). */
    private List<String> check(String... cmd) {
        return Launcher.command(
                Optional.of(cmd[0]), Optional.of(Arrays.copyOfRange(cmd, 1, cmd.length)), dir, warnings::add);
    }

    @Test
    void aCacheNewerThanEveryJarIsKept() throws IOException {
        Path cache = file("app.aot", MADE);
        Path a = file("a.jar", MADE.minusSeconds(60));
        file("lib/b.jar", MADE.minusSeconds(60));
        String[] cmd = {"java", "-XX:AOTCache=" + cache, "-cp", a + ":" + dir.resolve("lib") + "/*", "Main", "x.jar"};
        assertThat(check(cmd)).containsExactly(cmd);
        assertThat(warnings).isEmpty();
    }

    @Test
    void aJarReplacedAfterTheCacheWasMadeDropsTheCacheNamingBoth() throws IOException {
        Path cache = file("app.aot", MADE);
        Path a = file("a.jar", MADE.minusSeconds(60));
        Path b = file("lib/b.jar", MADE.plusSeconds(1));
        assertThat(check(
                        "java", "-Xmx64m", "-XX:AOTCache=" + cache, "-cp", a + ":" + dir.resolve("lib") + "/*", "Main"))
                .containsExactly("java", "-Xmx64m", "-cp", a + ":" + dir.resolve("lib") + "/*", "Main");
        assertThat(warnings)
                .singleElement()
                .asString()
                .contains("the AOT cache " + cache + " is older than " + b)
                .contains("JDK-8377932");
    }

    @Test
    void theJarOfDashJarAndItsManifestClassPathCount() throws IOException {
        Path cache = file("app.aot", MADE);
        Path app = jarWithClassPath("app.jar", "lib/dep.jar", MADE.minusSeconds(60));
        file("lib/dep.jar", MADE.minusSeconds(60));
        assertThat(check("java", "-XX:AOTCache=" + cache, "-jar", app.toString(), "--port=0"))
                .contains("-XX:AOTCache=" + cache);

        file("lib/dep.jar", MADE.plusSeconds(5)); // a dependency upgraded in place
        assertThat(check("java", "-XX:AOTCache=" + cache, "-jar", app.toString(), "--port=0"))
                .containsExactly("java", "-jar", app.toString(), "--port=0");
        assertThat(warnings).singleElement().asString().contains("lib/dep.jar");
    }

    @Test
    void theApplicationsOwnArgumentsAndAMissingCacheAreLeftAlone() throws IOException {
        Path a = file("a.jar", MADE.plusSeconds(60));
        // no cache file: the JVM warns and starts without it
        String[] missing = {"java", "-XX:AOTCache=" + dir.resolve("none.aot"), "-cp", a.toString(), "Main"};
        assertThat(check(missing)).containsExactly(missing);
        // after the main class, a jar and a flag are the application's arguments
        Path cache = file("app.aot", MADE);
        String[] cmd = {"java", "-XX:AOTCache=" + cache, "-cp", dir.toString(), "Main", "-cp", a.toString()};
        assertThat(check(cmd)).containsExactly(cmd);
        assertThat(warnings).isEmpty();
    }

    @Test
    void theLauncherMakesARelativeCacheAbsoluteAndDropsAStaleOne() throws IOException {
        Path cache = file("app.aot", MADE);
        file("a.jar", MADE.minusSeconds(60));
        assertThat(Launcher.command(
                        Optional.of("/jdk/bin/java"),
                        Optional.of(new String[] {"-XX:AOTCache=app.aot", "-cp", "a.jar", "Main"}),
                        dir))
                .containsExactly(
                        "/jdk/bin/java",
                        "-XX:AOTCache=" + cache,
                        "-cp",
                        dir.resolve("a.jar").toString(),
                        "Main");
        file("a.jar", MADE.plusSeconds(60));
        assertThat(Launcher.command(
                        Optional.of("/jdk/bin/java"),
                        Optional.of(new String[] {"-XX:AOTCache=app.aot", "-cp", "a.jar", "Main"}),
                        dir))
                .containsExactly("/jdk/bin/java", "-cp", dir.resolve("a.jar").toString(), "Main");
    }
}
