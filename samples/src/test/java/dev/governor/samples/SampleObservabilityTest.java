package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.test.ChildJvm;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample daemon, run in a child JVM, seen by the real tools: promtool lints its scrape,
 * a Prometheus server scrapes it, headless Chromium renders its status page, and its
 * {@code /readyz} drains before anything stops.
 */
class SampleObservabilityTest {
    static final List<String> SERVICES = List.of("http", "echo", "ticker", "flaky");
    private static final Duration PATIENCE = Duration.ofSeconds(60);
    private static final Pattern STATUS_LINE = Pattern.compile("status page: (http://127\\.0\\.0\\.1:\\d+/)status");
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private static ChildJvm sample;
    private static URI base;

    @BeforeAll
    static void startSample() throws Exception {
        sample = ChildJvm.builder(SampleDaemon.class)
                .arg("--port=0", "--metrics-port=0", "--tick=500", "--flaky-fails=1")
                .start();
        base = awaitEndpoint(sample);
        await().atMost(PATIENCE).until(() -> get(base.resolve("readyz")).statusCode() == 200);
    }

    @AfterAll
    static void stopSample() {
        if (sample != null) {
            sample.close();
        }
    }

    static URI awaitEndpoint(ChildJvm child) throws InterruptedException {
        Matcher m = STATUS_LINE.matcher(
                child.awaitOutput(line -> STATUS_LINE.matcher(line).find(), PATIENCE));
        assertThat(m.find()).isTrue();
        return URI.create(m.group(1));
    }

    static HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
        return HTTP.send(
                HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static ProcessResult run(List<String> command, String stdin, Duration timeout)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (stdin != null) {
                try (var in = p.getOutputStream()) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            var output = new java.io.ByteArrayOutputStream();
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    p.getInputStream().transferTo(output);
                } catch (IOException ignored) {
                    // killed
                }
            });
            assertThat(p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
                    .as("%s finished within %s", command.getFirst(), timeout)
                    .isTrue();
            reader.join(Duration.ofSeconds(10));
            return new ProcessResult(p.exitValue(), output.toString(StandardCharsets.UTF_8));
        } finally {
            ExternalTool.kill(p);
        }
    }

    record ProcessResult(int exitCode, String output) {}

    @Test
    void promtoolShouldFindNoErrorAndNoLintProblemInTheScrape() throws Exception {
        ExternalTool promtool = ExternalTool.require("promtool", "prometheus");
        // after a failure of the flaky worker, so failures, restarts and run durations are in it too
        await().atMost(PATIENCE)
                .until(() -> get(base.resolve("metrics")).body().contains("governor_service_failures_total{"));
        String scrape = get(base.resolve("metrics")).body();

        ProcessResult lint =
                run(List.of(promtool.path().toString(), "check", "metrics"), scrape, Duration.ofSeconds(60));

        assertThat(lint.output()).as("promtool check metrics output").isEmpty();
        assertThat(lint.exitCode()).as("promtool exit code").isZero();
        for (String service : SERVICES) {
            assertThat(scrape).contains("governor_service_up{service=\"" + service + "\"} 1.0");
        }
    }

    @Test
    void aPrometheusServerShouldScrapeEverySampleService(@TempDir Path dir) throws Exception {
        ExternalTool prometheus = ExternalTool.require("prometheus", "prometheus");
        int port = ExternalTool.freePort();
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: governor-sample
                    static_configs:
                      - targets: ["%s"]
                """.formatted(base.getAuthority()));
        Process server = new ProcessBuilder(
                        prometheus.path().toString(),
                        "--config.file=" + config,
                        "--storage.tsdb.path=" + dir.resolve("data"),
                        "--web.listen-address=127.0.0.1:" + port,
                        "--log.level=warn")
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("prometheus.log").toFile())
                .start();
        try {
            URI query = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
                    + URLEncoder.encode("governor_service_up", StandardCharsets.UTF_8));
            await().atMost(PATIENCE)
                    .pollInterval(Duration.ofMillis(500))
                    .ignoreExceptions()
                    .untilAsserted(() -> {
                        assertThat(server.isAlive())
                                .as(
                                        "prometheus still running; log:\n%s",
                                        Files.readString(dir.resolve("prometheus.log")))
                                .isTrue();
                        HttpResponse<String> r = get(query);
                        assertThat(r.statusCode()).isEqualTo(200);
                        assertThat(r.body()).contains("\"status\":\"success\"");
                        for (String service : SERVICES) {
                            assertThat(r.body()).contains("\"service\":\"" + service + "\"");
                        }
                    });
            HttpResponse<String> up = get(URI.create("http://127.0.0.1:" + port + "/api/v1/query?query="
                    + URLEncoder.encode("up{job=\"governor-sample\"}", StandardCharsets.UTF_8)));
            assertThat(up.body())
                    .as("the target itself is up")
                    .contains("\"value\":[")
                    .contains(",\"1\"]");
        } finally {
            ExternalTool.kill(server);
        }
    }

    @Test
    void headlessChromiumShouldRenderEveryServiceOnTheStatusPage(@TempDir Path dir) throws Exception {
        ExternalTool chromium = ExternalTool.require("chromium", "chromium");
        Path screenshot = Path.of("target", "status-page.png").toAbsolutePath();
        Files.deleteIfExists(screenshot);

        ProcessResult dom =
                run(chromiumCommand(chromium, dir.resolve("profile-dom"), "--dump-dom"), null, Duration.ofSeconds(120));
        ProcessResult shot = run(
                chromiumCommand(
                        chromium,
                        dir.resolve("profile-shot"),
                        "--hide-scrollbars",
                        "--window-size=1100,420",
                        "--screenshot=" + screenshot),
                null,
                Duration.ofSeconds(120));

        assertThat(dom.exitCode())
                .as("chromium --dump-dom; output:\n%s", dom.output())
                .isZero();
        String html = dom.output();
        for (String service : SERVICES) {
            assertThat(html)
                    .as("a row rendered for %s", service)
                    .containsPattern("<tr data-service=\"" + service + "\" data-state=\"RUNNING\">");
        }
        assertThat(html)
                .as("the script fetched status.json and rendered it")
                .containsPattern("data-refreshes=\"[1-9]\\d*\"");
        assertThat(html).contains("Governor sample daemon").contains(">healthy<");
        assertThat(shot.exitCode())
                .as("chromium --screenshot; output:\n%s", shot.output())
                .isZero();
        byte[] png = Files.readAllBytes(screenshot);
        assertThat(png.length).as("size of %s", screenshot).isGreaterThan(5_000);
        assertThat(new String(png, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
    }

    private static List<String> chromiumCommand(ExternalTool chromium, Path profile, String... more) {
        List<String> cmd = new ArrayList<>(List.of(
                chromium.path().toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--user-data-dir=" + profile,
                "--virtual-time-budget=3000"));
        cmd.addAll(List.of(more));
        cmd.add(base.resolve("status").toString());
        return cmd;
    }
}
