package dev.governor.benchmarks;

import dev.governor.Governor;
import dev.governor.runtime.systemd.NotifyReceiver;
import dev.governor.samples.AotCache;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * W4: exec → {@code READY=1} of the sample daemon (its jar, as {@code java -jar} starts it, with
 * {@code NOTIFY_SOCKET} pointing at a real unix datagram socket bound here), against a hello-world
 * JVM's exec → exit; the sample once without and once with the AOT cache the recipe
 * ({@link AotCache}) trains in this run; and the same for the smallest daemon, a governor with one
 * service. Every JVM gets the harness's flags. Time runs from just
 * before {@link ProcessBuilder#start()} to the moment the datagram is read (hello world: to its exit).
 *
 * <p>Run: {@code mvn -B -q -pl benchmarks -am package -DskipTests -Pstartup}.
 */
public final class Startup {
    static final int WARMUPS = 2, REPS = 7;

    private Startup() {}

    /** The smallest daemon: a governor with one service that waits to be stopped, and its signals. */
    public static final class MinimalDaemon {
        private MinimalDaemon() {}

        public static void main(String[] args) {
            Governor gov = Governor.create();
            gov.add("idle", ctx -> ctx.awaitStop());
            System.exit(gov.catchSignals().start().waitForShutdown().exitCode());
        }
    }

    /** A hello-world program: the floor. */
    public static final class Hello {
        private Hello() {}

        public static void main(String[] args) {
            System.out.println("hello, world");
        }
    }

    public static void main(String[] args) throws Exception {
        Path root = Jvms.projectRoot();
        Path jar = jar(root.resolve("samples/target"), "samples-.*\\.jar");
        Path sampleAot = root.resolve("benchmarks/target/sample.aot");
        Path minimalAot = root.resolve("benchmarks/target/minimal.aot");
        System.out.println(Jvms.header("W4 exec → READY=1"));
        // the sample as its systemd unit starts it: java -jar, the jar's manifest granting native access
        // and the opening of sun.nio.ch (on the command line, --add-opens costs the JVM its archived
        // module graph: ~190 more classes to load before main)
        List<String> sampleFlags = new ArrayList<>(Jvms.HARNESS_FLAGS);
        // the minimal governor runs from -cp: the flags on the command line, as its launcher would give them
        List<String> flags = new ArrayList<>(Jvms.HARNESS_FLAGS);
        flags.addAll(Jvms.NATIVE_FLAGS);
        List<String> sample = AotCache.sampleCommand(jar);
        // an AOT cache takes jars only: this module's jar and the runtime's jars the sample ships with
        List<String> minimalCp = new ArrayList<>(List.of(
                jar(root.resolve("benchmarks/target"), "benchmarks-.*\\.jar").toString()));
        try (var libs = Files.list(root.resolve("samples/target/lib"))) {
            libs.map(Path::toString).filter(p -> p.endsWith(".jar")).sorted().forEach(minimalCp::add);
        }
        List<String> minimal = List.of("-cp", String.join(":", minimalCp), MinimalDaemon.class.getName());

        String loadBefore = loadAverage();
        double hello = median(Startup::helloOnce, "hello world");
        double sampleCold = median(() -> readyOnce(sampleFlags, sample, null), "sample");
        double minimalCold = median(() -> readyOnce(flags, minimal, null), "minimal governor");
        train(sampleFlags, sample, sampleAot);
        train(flags, minimal, minimalAot);
        double sampleWarm = median(() -> readyOnce(sampleFlags, sample, sampleAot), "sample with AOT cache");
        double minimalWarm = median(() -> readyOnce(flags, minimal, minimalAot), "minimal governor with AOT cache");

        System.out.println("| process | exec → | ms | ratio to hello world |");
        System.out.println("|---|---|--:|--:|");
        System.out.printf(Locale.ROOT, "| hello-world JVM (floor) | exit | %.0f | 1.00× |%n", hello);
        System.out.printf(
                Locale.ROOT,
                "| sample daemon (4 services, HTTP endpoint with Micrometer, echo) | READY=1 | %.0f | %s |%n",
                sampleCold,
                Jvms.ratio(sampleCold, hello));
        System.out.printf(
                Locale.ROOT,
                "| sample daemon, -XX:AOTCache | READY=1 | %.0f | %s |%n",
                sampleWarm,
                Jvms.ratio(sampleWarm, hello));
        System.out.printf(
                Locale.ROOT,
                "| minimal governor (1 service) | READY=1 | %.0f | %s |%n",
                minimalCold,
                Jvms.ratio(minimalCold, hello));
        System.out.printf(
                Locale.ROOT,
                "| minimal governor, -XX:AOTCache | READY=1 | %.0f | %s |%n",
                minimalWarm,
                Jvms.ratio(minimalWarm, hello));
        System.out.println("medians of " + REPS + " processes after " + WARMUPS
                + " discarded, NOTIFY_SOCKET set for the daemons; sample: java " + String.join(" ", sampleFlags) + " "
                + String.join(" ", sample).replace(root + "/", "")
                + " (its manifest: Enable-Native-Access, Add-Opens); minimal: java " + String.join(" ", flags)
                + " -cp <benchmarks jar, the runtime's jars> "
                + MinimalDaemon.class.getName());
        System.out.println("load average (1, 5, 15 min) before the run: " + loadBefore + "; after: " + loadAverage());
        System.out.println();
        System.out.println(
                "Classes loaded by READY=1 (one more process of each, -Xlog:class+load, killed at READY=1):");
        System.out.println();
        System.out.println("| process | classes | from the CDS archive or AOT cache | the largest groups |");
        System.out.println("|---|--:|--:|---|");
        System.out.println(classLoads("sample daemon", sampleFlags, sample, null));
        System.out.println(classLoads("sample daemon, -XX:AOTCache", sampleFlags, sample, sampleAot));
        System.out.println(classLoads("minimal governor", flags, minimal, null));
        System.out.println(classLoads("minimal governor, -XX:AOTCache", flags, minimal, minimalAot));
        System.out.println(Jvms.reproduce("startup"));
    }

    /** {@code /proc/loadavg}'s three averages: the figures mean little on a machine that is busy. */
    private static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
        return f[0] + ", " + f[1] + ", " + f[2];
    }

    /**
     * One start with {@code -Xlog:class+load}, killed the moment {@code READY=1} arrives: how many
     * classes it loaded on the way, how many came from the CDS archive or AOT cache, and the largest
     * groups by package (JDK packages by their first two names, Governor's by its own packages;
     * generated lambda and method-handle classes as one group).
     */
    private static String classLoads(String what, List<String> flags, List<String> app, Path aot) throws Exception {
        Path log = Files.createTempFile("governor-startup-classes", ".log");
        try {
            List<String> withLog = new ArrayList<>(flags);
            // filecount=0: no rotation, which would move the (empty) file made above to a ".0" left behind
            withLog.add("-Xlog:class+load:file=" + log + ":uptime:filecount=0");
            readyOnce(withLog, app, aot, true);
            List<String> loads = Files.readAllLines(log).stream()
                    .filter(l -> l.contains(" source: "))
                    .toList();
            long shared = loads.stream()
                    .filter(l -> l.contains("source: shared objects file"))
                    .count();
            java.util.Map<String, Long> groups = loads.stream()
                    .map(l -> group(l.split(" ")[1]))
                    .collect(java.util.stream.Collectors.groupingBy(g -> g, java.util.stream.Collectors.counting()));
            String top = groups.entrySet().stream()
                    .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed())
                    .limit(8)
                    .map(e -> e.getValue() + " " + e.getKey())
                    .collect(java.util.stream.Collectors.joining(", "));
            return "| " + what + " | " + loads.size() + " | " + shared + " | " + top + " |";
        } finally {
            Files.deleteIfExists(log);
        }
    }

    private static String group(String className) {
        if (className.contains("$$Lambda") || className.contains("LambdaForm$") || className.contains("$Species_")) {
            return "(generated lambdas and method handles)";
        }
        String[] p = className.split("\\.");
        int names = className.startsWith("dev.governor.runtime.") ? 4 : 2;
        return String.join(".", java.util.Arrays.copyOf(p, Math.min(names, p.length - 1)));
    }

    private static void train(List<String> flags, List<String> app, Path output) throws Exception {
        long t0 = System.nanoTime();
        AotCache.train(Jvms.java(), flags, app, output, Duration.ofMinutes(5));
        System.err.println(String.format(
                Locale.ROOT,
                "AOT cache trained in %d ms: %s (%,d bytes)",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                output,
                Files.size(output)));
    }

    private static Path jar(Path dir, String pattern) throws IOException {
        try (var jars = Files.list(dir)) {
            return jars.filter(p -> p.getFileName().toString().matches(pattern))
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException(
                            "no " + pattern + " in " + dir + ": run the package phase first"));
        }
    }

    interface Once {
        double ms() throws Exception;
    }

    private static double median(Once once, String what) throws Exception {
        for (int i = 0; i < WARMUPS; i++) {
            once.ms();
        }
        double[] ms = new double[REPS];
        for (int i = 0; i < REPS; i++) {
            ms[i] = once.ms();
            System.err.println(String.format(Locale.ROOT, "%s rep %d: %.1f ms", what, i, ms[i]));
        }
        return Jvms.median(ms);
    }

    private static double helloOnce() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Jvms.java()));
        cmd.addAll(Jvms.HARNESS_FLAGS);
        cmd.addAll(List.of(
                "-cp",
                Path.of(Hello.class
                                .getProtectionDomain()
                                .getCodeSource()
                                .getLocation()
                                .toURI())
                        .toString(),
                Hello.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        long t0 = System.nanoTime();
        Process p = pb.start();
        int rc = p.waitFor();
        long t1 = System.nanoTime();
        if (rc != 0) {
            throw new IllegalStateException("hello world exited " + rc);
        }
        return (t1 - t0) / 1e6;
    }

    /** exec → READY=1 of {@code java flags [AOT cache] app...}. */
    private static double readyOnce(List<String> flags, List<String> app, Path aot) throws Exception {
        return readyOnce(flags, app, aot, false);
    }

    private static double readyOnce(List<String> flags, List<String> app, Path aot, boolean killAtReady)
            throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Jvms.java()));
        cmd.addAll(flags);
        if (aot != null) {
            cmd.add("-XX:AOTCache=" + aot);
            cmd.add("-XX:AOTMode=on"); // a cache the JVM cannot use is an error, not a silent slow start
        }
        cmd.addAll(app);
        try (NotifyReceiver systemd = NotifyReceiver.bind(
                "@governor-startup-" + ProcessHandle.current().pid() + "-" + System.nanoTime())) {
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD);
            pb.environment().put("NOTIFY_SOCKET", systemd.address());
            pb.environment().remove("GOVERNOR_METRICS_PORT");
            long t0 = System.nanoTime();
            Process p = pb.start();
            try {
                NotifyReceiver.Message ready;
                try {
                    ready = systemd.await(m -> m.has("READY", "1"), Duration.ofMinutes(1));
                } catch (AssertionError e) {
                    throw new IllegalStateException(
                            "no READY=1 from " + String.join(" ", cmd)
                                    + (p.isAlive() ? "" : " (exited " + p.exitValue() + ")"),
                            e);
                }
                return (ready.receivedNanos() - t0) / 1e6;
            } finally {
                if (killAtReady) {
                    p.destroyForcibly(); // SIGKILL: nothing loaded after READY=1 reaches the class-load log
                } else {
                    p.destroy();
                }
                if (!p.waitFor(1, TimeUnit.MINUTES)) {
                    p.destroyForcibly().waitFor();
                }
            }
        }
    }
}
