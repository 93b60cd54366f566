package dev.governor.benchmarks;

import dev.governor.samples.HttpLoad;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reload under load: the sample daemon's Jetty hello service (a reloadable node on a governor-owned
 * listener) in its own JVM, 64 keep-alive connections of {@link HttpLoad}, and three phases of the
 * same length: a floor without reloads, one SIGHUP a second (alternating a good and a broken
 * configuration), and a second floor. Prints requests/s, connection errors, non-200 answers and the
 * p99 latency of each phase, the p99 in the two seconds after each reload, and the ratios to the floor.
 *
 * <p>Arguments: {@code [seconds per phase, default 20] [connections, default 64]}. Both JVMs run
 * with the peer harness's flags ({@code -Xms2g -Xmx8g}, default G1).
 */
public final class ReloadUnderLoad {
    private static final Pattern HELLO = Pattern.compile("hello: http://127\\.0\\.0\\.1:(\\d+)/hello");

    private ReloadUnderLoad() {}

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int connections = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        Path dir = Files.createTempDirectory("governor-reload-bench");
        Path config = dir.resolve("hello.conf");
        Files.writeString(config, "greeting=good-0\n");
        List<String> flags = new ArrayList<>(Jvms.NATIVE_FLAGS);
        flags.addAll(List.of(
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                "-Dorg.slf4j.simpleLogger.log.org.eclipse.jetty=warn"));
        List<String> command = Jvms.command(
                "dev.governor.samples.SampleDaemon",
                flags,
                "--config=" + config,
                "--hello-port=0",
                "--port=0",
                "--metrics-port=0",
                "--tick=600000",
                "--flaky-fails=0");
        Process daemon = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r =
                    new BufferedReader(new InputStreamReader(daemon.getInputStream(), StandardCharsets.UTF_8))) {
                String live = System.getenv("RELOAD_BENCH_LOG");
                for (String l = r.readLine(); l != null; l = r.readLine()) {
                    lines.add(l);
                    if (live != null) {
                        Files.writeString(
                                Path.of(live), l + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    }
                    Matcher m = HELLO.matcher(l);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (IOException e) {
                port.completeExceptionally(e);
            }
        });
        try {
            InetSocketAddress target = new InetSocketAddress("127.0.0.1", port.get(120, TimeUnit.SECONDS));
            awaitLine(lines, "governor ready", 120);
            System.out.printf(
                    Locale.ROOT,
                    "reload under load: %d connections, %d s per phase, daemon pid %d%n",
                    connections,
                    seconds,
                    daemon.pid());
            run(target, connections, Math.max(5, seconds / 2), null, null); // warm-up, not reported
            HttpLoad.Result floor = run(target, connections, seconds, null, null);
            List<Long> reloadSeconds = new ArrayList<>();
            HttpLoad.Result reloading = run(target, connections, seconds, daemon, config, reloadSeconds, lines);
            HttpLoad.Result floor2 = run(target, connections, seconds, null, null);

            long served = lines.stream()
                    .filter(l -> l.contains("is serving; stopping generation"))
                    .count();
            long refused = lines.stream()
                    .filter(l -> l.contains("reload of hello refused"))
                    .count();
            double floorP99 = floor.percentileMillis(0.99, s -> true);
            double floor2P99 = floor2.percentileMillis(0.99, s -> true);
            double reloadP99 = reloading.percentileMillis(0.99, s -> true);
            double worstWindow = 0;
            for (long s : reloadSeconds) {
                worstWindow = Math.max(worstWindow, reloading.percentileMillis(0.99, x -> x == s || x == s + 1));
            }
            LoadTable.header();
            LoadTable.row("floor (no reloads)", floor);
            LoadTable.row("one reload a second", reloading);
            LoadTable.row("floor again", floor2);
            System.out.println();
            System.out.println("p99 ms per second, floor:     " + timeline(floor, List.of()));
            System.out.println(
                    "p99 ms per second, reloading: " + timeline(reloading, reloadSeconds) + "  (* = a reload)");
            System.out.println("p99 ms per second, floor:     " + timeline(floor2, List.of()));
            System.out.printf(
                    Locale.ROOT,
                    "%nreloads: %d good served, %d broken refused; worst p99 in the 2 s after a reload: %.2f ms%n",
                    served,
                    refused,
                    worstWindow);
            double floorBest = Math.min(floorP99, floor2P99);
            System.out.printf(
                    Locale.ROOT,
                    "p99 ratio, reloading / floor: %.2f (whole phase), %.2f (worst 2 s window); req/s ratio %.2f%n",
                    reloadP99 / floorBest,
                    worstWindow / floorBest,
                    reloading.requestsPerSecond() / Math.max(floor.requestsPerSecond(), floor2.requestsPerSecond()));
            LoadTable.errorSamples(List.of(floor, reloading, floor2));
            System.out.println("command: mvn -B -q -Preload package -DskipTests -pl benchmarks -am -Dreload.args=\""
                    + seconds + " " + connections + "\"");
        } finally {
            daemon.destroy();
            if (!daemon.waitFor(60, TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
            Files.deleteIfExists(config);
            Files.deleteIfExists(dir);
        }
    }

    private static HttpLoad.Result run(
            InetSocketAddress target, int connections, int seconds, Process daemon, Path config) throws Exception {
        return run(target, connections, seconds, daemon, config, new ArrayList<>(), List.of());
    }

    /** Load for {@code seconds}; with a daemon, one SIGHUP a second after the first, alternating good and broken files. */
    private static HttpLoad.Result run(
            InetSocketAddress target,
            int connections,
            int seconds,
            Process daemon,
            Path config,
            List<Long> reloadSeconds,
            List<String> lines)
            throws Exception {
        HttpLoad load = new HttpLoad(target, "/hello", connections);
        HttpLoad.Result result;
        try {
            long begin = System.nanoTime();
            for (int i = 1; i < seconds; i++) {
                LockSupport.parkNanos(begin + TimeUnit.SECONDS.toNanos(i) - System.nanoTime());
                if (daemon != null) {
                    awaitOutcomes(lines, i - 1); // the previous reload has read its file
                    boolean good = i % 2 == 1;
                    Files.writeString(config, good ? "greeting=good-" + i + "\n" : "greeting\n");
                    reloadSeconds.add(TimeUnit.NANOSECONDS.toSeconds(load.elapsedNanos()));
                    new ProcessBuilder("kill", "-HUP", Long.toString(daemon.pid()))
                            .inheritIO()
                            .start()
                            .waitFor();
                }
            }
            LockSupport.parkNanos(begin + TimeUnit.SECONDS.toNanos(seconds) - System.nanoTime());
        } finally {
            result = load.stop();
        }
        return result;
    }

    private static long outcomes(List<String> lines) {
        return lines.stream()
                .filter(l -> l.contains("is serving; stopping generation") || l.contains("reload of hello refused"))
                .count();
    }

    private static void awaitOutcomes(List<String> lines, long count) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (outcomes(lines) < count && System.nanoTime() < deadline) {
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    /** p99 of each second of a phase, {@code *} marking the seconds a reload was asked in. */
    private static String timeline(HttpLoad.Result r, List<Long> reloadSeconds) {
        StringBuilder out = new StringBuilder();
        r.latenciesBySecond()
                .forEach((second, latencies) -> out.append(String.format(
                        Locale.ROOT,
                        " %s%d:%.1f",
                        reloadSeconds.contains(second) ? "*" : "",
                        second,
                        latencies[Math.max(0, (int) Math.ceil(0.99 * latencies.length) - 1)] / 1000.0)));
        return out.toString().trim();
    }

    private static void awaitLine(List<String> lines, String text, int seconds) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (lines.stream().noneMatch(l -> l.contains(text))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the daemon did not print \"" + text + "\" within " + seconds + " s:\n"
                        + String.join("\n", lines));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }
}
