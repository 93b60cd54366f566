package dev.governor.samples;

import dev.governor.runtime.systemd.NotifyReceiver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The AOT cache recipe for the sample daemon (JDK 25: {@code -XX:AOTCacheOutput} / {@code -XX:AOTCache}).
 * One training run of the sample jar, as production starts it: {@code NOTIFY_SOCKET} set (a
 * {@link NotifyReceiver} stands in for systemd), until {@code READY=1}; one scrape of
 * {@code /metrics} and {@code /status}; then SIGTERM. The JVM writes the cache as it exits: the
 * classes that run loaded and linked, and method profiles. A later start with
 * {@code -XX:AOTCache=<file>} and the same jar and flags reaches {@code READY=1} sooner.
 *
 * <pre>
 *   mvn -B -q -pl samples -am package -DskipTests -Paot      # writes samples/target/sample.aot
 *   java -XX:AOTCache=samples/target/sample.aot -jar samples/target/samples-0.1.0-SNAPSHOT.jar
 * </pre>
 *
 * The cache belongs to that jar: rebuilding the jar makes the JVM ignore it (with a warning) until
 * the recipe runs again. With {@code -XX:AOTMode=on} a stale cache is an error instead.
 */
public final class AotCache {
    private static final Pattern STATUS_URI = Pattern.compile("status page: (http://\\S+/)status");

    private AotCache() {}

    /** {@code AotCache <output.aot> <sample jar> [jvm flags...]}: trains and writes the cache. */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: AotCache <output.aot> <samples jar> [jvm flags...]");
            System.exit(2);
        }
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path output = Path.of(args[0]).toAbsolutePath();
        Path jar = Path.of(args[1]).toAbsolutePath();
        List<String> flags = List.of(args).subList(2, args.length);
        long t0 = System.nanoTime();
        train(java, flags, sampleCommand(jar), output, Duration.ofMinutes(5));
        System.out.printf(
                "AOT cache %s (%,d bytes) written in %d s; use it with: %s -XX:AOTCache=%s %s -jar %s%n",
                output,
                Files.size(output),
                TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0),
                java,
                output,
                String.join(" ", flags),
                jar);
    }

    /** What follows the JVM flags to start the sample from {@code jar}: the HTTP endpoint and echo on free ports. */
    public static List<String> sampleCommand(Path jar) {
        return List.of("-jar", jar.toString(), "--port=0", "--metrics-port=0");
    }

    /**
     * One training run of {@code java flags app...} (a daemon that sends {@code READY=1} and stops on
     * SIGTERM with exit code 0), writing {@code output}; returns once the cache exists. Fails naming
     * what went wrong (no READY=1, a non-zero exit, no file written). Start it later with the same
     * flags and app, plus {@code -XX:AOTCache=output}.
     */
    public static void train(String java, List<String> flags, List<String> app, Path output, Duration timeout)
            throws Exception {
        Files.deleteIfExists(output);
        Files.createDirectories(output.toAbsolutePath().getParent());
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(flags);
        cmd.add("-XX:AOTCacheOutput=" + output);
        cmd.addAll(app);
        Path log = Path.of(output + ".log");
        try (NotifyReceiver systemd =
                NotifyReceiver.bind("@governor-aot-" + ProcessHandle.current().pid() + "-" + System.nanoTime())) {
            // output to a file, not a pipe: the cache is assembled by a child the JVM starts as it exits,
            // which writes to the same stdout
            ProcessBuilder pb =
                    new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("NOTIFY_SOCKET", systemd.address());
            pb.environment().remove("GOVERNOR_METRICS_PORT");
            Process p = pb.start();
            try {
                try {
                    systemd.await(m -> m.has("READY", "1"), timeout);
                } catch (AssertionError e) {
                    throw new IllegalStateException(
                            "the training run sent no READY=1 within " + timeout + "; output:\n"
                                    + Files.readString(log),
                            e);
                }
                scrape(Files.readAllLines(log));
                p.toHandle().destroy(); // SIGTERM: the ordered shutdown, then the JVM writes the cache as it exits
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    throw new IllegalStateException(
                            "the training run did not exit within " + timeout + "; output:\n" + Files.readString(log));
                }
                if (p.exitValue() != 0 || !Files.isRegularFile(output)) {
                    throw new IllegalStateException("the training run exited " + p.exitValue()
                            + (Files.isRegularFile(output) ? "" : " without writing " + output) + "; output:\n"
                            + Files.readString(log));
                }
            } finally {
                p.destroyForcibly();
            }
        }
    }

    /** One request to /metrics and /status, so their code is in the cache too. */
    private static void scrape(List<String> out) throws Exception {
        Matcher m = null;
        for (String line : out) {
            Matcher candidate = STATUS_URI.matcher(line);
            if (candidate.find()) {
                m = candidate;
            }
        }
        if (m == null) {
            return; // no endpoint line: nothing to scrape
        }
        try (HttpClient http = HttpClient.newHttpClient()) {
            for (String path : List.of("metrics", "status")) {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(m.group(1) + path))
                                .timeout(Duration.ofSeconds(30))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    throw new IllegalStateException("GET /" + path + " of the training run answered " + r.statusCode());
                }
            }
        }
    }
}
