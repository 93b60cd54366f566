package dev.governor.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What every benchmark shares: the peer harness's JVM flags, child JVMs on this JDK, medians,
 * heap after a full GC, and the lines every report ends with.
 */
final class Jvms {
    /** The flags every row of the peer harness gets (its run.sh): default GC (G1). */
    static final List<String> HARNESS_FLAGS = List.of("-Xms2g", "-Xmx8g");
    /** What native access and inherited descriptors need (the project's launchers carry the same). */
    static final List<String> NATIVE_FLAGS =
            List.of("--enable-native-access=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED");

    private Jvms() {}

    /** This JVM's {@code java} (the build's JDK 25 toolchain). */
    static String java() {
        return ProcessHandle.current()
                .info()
                .command()
                .orElseThrow(() -> new IllegalStateException("cannot tell this JVM's command"));
    }

    /**
     * A command line for {@code main} in a fresh JVM with the harness's flags and this class path;
     * {@code daemonFlags} adds {@link #NATIVE_FLAGS}, which a daemon's launcher carries (W3) and the
     * harness's rows do not (W1, W2).
     */
    static List<String> command(Class<?> main, boolean daemonFlags, String... args) {
        return command(main.getName(), daemonFlags ? NATIVE_FLAGS : List.of(), args);
    }

    /**
     * A command line for the class named {@code main} in a fresh JVM with the harness's flags,
     * then {@code flags}, and this class path (a sample daemon: {@code flags} holds {@link #NATIVE_FLAGS}).
     */
    static List<String> command(String main, List<String> flags, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(HARNESS_FLAGS);
        cmd.addAll(flags);
        String extra =
                System.getProperty("bench.childFlags", "").trim(); // for profiling, e.g. -XX:StartFlightRecording=...
        if (!extra.isEmpty()) {
            cmd.addAll(Arrays.asList(extra.split("\\s+")));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    /**
     * Runs {@code main} in a fresh JVM with exactly the harness's flags, passes its stderr through, and
     * returns its stdout lines; fails with the output when it exits non-zero.
     */
    static List<String> run(Class<?> main, String... args) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command(main, false, args))
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                out.add(line);
            }
        }
        int rc = p.waitFor();
        if (rc != 0) {
            throw new IllegalStateException(main.getSimpleName() + " " + String.join(" ", args) + " exited " + rc
                    + ":\n" + String.join("\n", out));
        }
        return out;
    }

    /** The line starting with {@code prefix}, split on tabs, without the prefix. */
    static String[] result(List<String> lines, String prefix) {
        return lines.stream()
                .filter(l -> l.startsWith(prefix + "\t"))
                .reduce((a, b) -> b)
                .orElseThrow(() -> new IllegalStateException("no " + prefix + " line in " + lines))
                .substring(prefix.length() + 1)
                .split("\t");
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int h = v.length / 2;
        return v.length % 2 == 1 ? v[h] : (v[h - 1] + v[h]) / 2;
    }

    /** Heap used after a full GC (with G1, System.gc() is a full stop-the-world collection). */
    static long heapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static String header(String what) {
        return header(what, HARNESS_FLAGS);
    }

    /** The first line of a report: the JDK, the machine, its load now, and the flags every measured JVM got. */
    static String header(String what, List<String> flags) {
        return String.format(
                Locale.ROOT,
                "%s: JDK %s, %d cores (load average %s at the start), flags %s (default G1) in every measured JVM, each row in a fresh JVM",
                what,
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                loadAverage(),
                String.join(" ", flags));
    }

    /** The 1-minute load average: the machine may be shared, and the figures of a loaded run are inflated. */
    static String loadAverage() {
        double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return l < 0 ? "unknown" : String.format(Locale.ROOT, "%.1f", l);
    }

    /** VmRSS of this process in bytes, as the harness reads it. */
    static long rss() throws IOException {
        for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    static String reproduce(String profile) {
        return "reproduce: mvn -B -q -pl benchmarks -am package -DskipTests -P" + profile;
    }

    static String ratio(double value, double floor) {
        return String.format(Locale.ROOT, "%.2f×", value / floor);
    }

    /** The project's root directory (the benchmarks module's parent), from the build's property. */
    static Path projectRoot() {
        String dir = System.getProperty("governor.root");
        if (dir == null) {
            throw new IllegalStateException(
                    "-Dgovernor.root=<project directory> is not set (the Maven profiles set it)");
        }
        return Path.of(dir).toAbsolutePath().normalize();
    }
}
