package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.test.ChildJvm;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The API boundary that the module-info files declare, checked the way a user meets it: a small
 * application compiled with the real javac and run in a real JVM, once as a named module on the
 * module path (what it cannot reach, what it can), once on the class path (what every command of
 * the README does).
 *
 * <p>Governor's own tests run on the class path (see the parent pom's surefire configuration), so
 * this test is what fails the build if a package that should stay internal is exported, or if
 * {@code provides}/{@code uses} break {@code Governor.create()} on the module path.
 */
class ModuleBoundaryTest {
    /** The modules of the runtime and what its module-info requires; the rest of its class path stays on the class path. */
    private static final List<String> MODULES = List.of(
            "/governor-api/",
            "/governor-runtime/",
            "governor-api-",
            "governor-runtime-",
            "/slf4j-api-",
            "/slf4j-simple-",
            "/micrometer-core-",
            "/micrometer-registry-prometheus-");

    private static final String APP = """
            package app;

            import dev.governor.Governor;
            import java.time.Duration;

            public final class Main {
                public static void main(String[] args) throws Exception {
                    Governor gov = Governor.create();
                    gov.add("worker", ctx -> ctx.awaitStop());
                    gov.start();
                    System.out.println("ready: " + gov.awaitReady(Duration.ofSeconds(60)));
                    System.out.println("services: " + gov.services().stream().map(i -> i.name() + "=" + i.state()).toList());
                    Class<?> impl = gov.getClass();
                    System.out.println("runtime: " + impl.getModule().getName() + " " + impl.getPackageName()
                            + " exported=" + impl.getModule().isExported(impl.getPackageName()));
                    try {
                        impl.getMethod("services").invoke(gov);
                        System.out.println("reflection into the runtime: allowed");
                    } catch (IllegalAccessException e) {
                        System.out.println("reflection into the runtime: refused");
                    }
                    gov.shutdown();
                    System.out.println("exit code: " + gov.waitForShutdown().exitCode());
                }
            }
            """;

    private static List<Path> modulePath;
    private static List<Path> classPath;

    @BeforeAll
    static void readTheRuntimeClassPath() throws IOException {
        // written by maven-dependency-plugin:build-classpath (samples/pom.xml): the runtime scope of this module
        String entries =
                Files.readString(Path.of("target", "runtime.classpath")).strip();
        modulePath = new ArrayList<>();
        classPath = new ArrayList<>();
        for (String entry : entries.split(java.io.File.pathSeparator)) {
            String normalized = entry.replace('\\', '/') + (Files.isDirectory(Path.of(entry)) ? "/" : "");
            boolean module = MODULES.stream().anyMatch(normalized::contains);
            (module ? modulePath : classPath).add(Path.of(entry));
        }
        assertThat(modulePath)
                .as("Governor's modules and their requirements, from " + entries)
                .hasSize(6);
    }

    @ParameterizedTest(name = "{0} is not exported")
    @CsvSource({
        "dev.governor.runtime.internal, GovernorProviderImpl",
        "dev.governor.runtime.handover, HandoverSender",
        "dev.governor.runtime.listen, GovernorListeners",
        "dev.governor.runtime.upgrade, Takeover"
    })
    void shouldRefuseAModuleThatImportsAnInternalPackage(String pkg, String type, @TempDir Path dir)
            throws IOException {
        Path src = dir.resolve("src");
        write(src.resolve("module-info.java"), "module app { requires dev.governor.runtime; }");
        write(
                src.resolve("app/Main.java"),
                "package app;\nimport " + pkg + "." + type + ";\n"
                        + "public final class Main { public static void main(String[] a) { System.out.println(" + type
                        + ".class); } }\n");

        Javac result = javac(
                List.of(
                        "--module-path",
                        join(modulePath),
                        "-d",
                        dir.resolve("out").toString()),
                src);

        assertThat(result.exitCode).isNotZero();
        assertThat(result.output)
                .contains("package " + pkg + " is not visible")
                .contains("package " + pkg + " is declared in module dev.governor.runtime, which does not export it");
    }

    @Test
    void shouldRunANamedModuleThatUsesTheApiAndTheExportedExtensions(@TempDir Path dir) throws Exception {
        Path src = dir.resolve("src");
        // requires dev.governor.runtime for an exported extension package; Governor.create() itself needs only the API
        write(src.resolve("module-info.java"), "module app { requires dev.governor; requires dev.governor.runtime; }");
        write(
                src.resolve("app/Main.java"),
                APP.replace(
                        "Governor gov = Governor.create();",
                        "Governor gov = Governor.create();\n        System.out.println(\"extension point: \" + "
                                + "dev.governor.runtime.GovernorExtension.class.getModule().getName() + \" \" + "
                                + "dev.governor.runtime.metrics.GovernorEndpoint.class.getPackageName());"));
        Path out = dir.resolve("out");
        Javac compiled = javac(List.of("--module-path", join(modulePath), "-d", out.toString()), src);
        assertThat(compiled.exitCode).as(compiled.output).isZero();

        Run run = java(List.of(
                "--enable-native-access=dev.governor.runtime",
                "--module-path",
                out + java.io.File.pathSeparator + join(modulePath),
                "--class-path",
                join(classPath),
                "-m",
                "app/app.Main"));

        assertThat(run.exitCode).as(run.output).isZero();
        assertThat(run.output)
                .contains("extension point: dev.governor.runtime dev.governor.runtime.metrics")
                .contains("ready: true")
                .contains("services: [worker=RUNNING]")
                .contains("runtime: dev.governor.runtime dev.governor.runtime.internal exported=false")
                .contains("reflection into the runtime: refused")
                .contains("exit code: 0")
                // the module's own name grants native access: no warning about restricted methods
                .doesNotContain("restricted method");
    }

    @Test
    void shouldRunTheSameApplicationOnTheClassPath(@TempDir Path dir) throws Exception {
        Path src = dir.resolve("src");
        write(src.resolve("app/Main.java"), APP);
        Path out = dir.resolve("out");
        List<Path> everything = new ArrayList<>(modulePath);
        everything.addAll(classPath);
        Javac compiled = javac(List.of("--class-path", join(everything), "-d", out.toString()), src);
        assertThat(compiled.exitCode).as(compiled.output).isZero();

        Run run = java(List.of(
                "--enable-native-access=ALL-UNNAMED",
                "--class-path",
                out + java.io.File.pathSeparator + join(everything),
                "app.Main"));

        assertThat(run.exitCode).as(run.output).isZero();
        assertThat(run.output)
                .contains("ready: true")
                .contains("services: [worker=RUNNING]")
                // on the class path nothing is encapsulated: the boundary holds only for named modules
                .contains("runtime: null dev.governor.runtime.internal exported=true")
                .contains("reflection into the runtime: allowed")
                .contains("exit code: 0")
                .doesNotContain("restricted method");
    }

    private record Javac(int exitCode, String output) {}

    private record Run(int exitCode, String output) {}

    /** The real javac of this JDK, with the build's own rule: every warning is an error. */
    private static Javac javac(List<String> options, Path src) throws IOException {
        List<String> args = new ArrayList<>(options);
        if (!options.contains("--class-path")) {
            // in-process javac would otherwise take this JVM's class path (all of Governor, unnamed) as its own
            Path none = Files.createDirectories(src.resolveSibling("no-class-path"));
            args.addAll(List.of("--class-path", none.toString()));
        }
        args.addAll(List.of("-Xlint:all", "-Werror"));
        try (var files = Files.walk(src)) {
            files.filter(p -> p.toString().endsWith(".java")).forEach(p -> args.add(p.toString()));
        }
        StringWriter output = new StringWriter();
        PrintWriter writer = new PrintWriter(output, true);
        int code = ToolProvider.findFirst("javac").orElseThrow().run(writer, writer, args.toArray(String[]::new));
        return new Javac(code, output.toString());
    }

    private static Run java(List<String> args) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(ChildJvm.javaExecutable());
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            byte[] bytes = p.getInputStream().readAllBytes();
            assertThat(p.waitFor(120, TimeUnit.SECONDS))
                    .as("the application exits")
                    .isTrue();
            return new Run(p.exitValue(), new String(bytes, StandardCharsets.UTF_8));
        } finally {
            p.destroyForcibly();
        }
    }

    private static void write(Path file, String text) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    private static String join(List<Path> paths) {
        return String.join(
                java.io.File.pathSeparator, paths.stream().map(Path::toString).toArray(String[]::new));
    }
}
