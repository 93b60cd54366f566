package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.test.ChildJvm;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** SIGTERM to the sample: {@code /readyz} answers 503 at once, while every service still runs (the drain delay). */
class SampleDrainTest {
    private static final Duration PATIENCE = Duration.ofSeconds(60);

    @Test
    void readyzShouldTurn503BeforeTheFirstServiceStops() throws Exception {
        try (ChildJvm sample = ChildJvm.builder(SampleDaemon.class)
                .arg("--port=0", "--metrics-port=0", "--flaky-fails=0", "--drain=5000")
                .start()) {
            URI base = SampleObservabilityTest.awaitEndpoint(sample);
            await().atMost(PATIENCE)
                    .until(() ->
                            SampleObservabilityTest.get(base.resolve("readyz")).statusCode() == 200);

            sample.signal("TERM");

            HttpResponse<String> readyz = await().atMost(PATIENCE)
                    .pollInterval(Duration.ofMillis(20))
                    .until(() -> SampleObservabilityTest.get(base.resolve("readyz")), r -> r.statusCode() == 503);
            String tree =
                    SampleObservabilityTest.get(base.resolve("status.json")).body();

            assertThat(readyz.body()).startsWith("shutting down");
            assertThat(tree)
                    .as("every service still runs while draining: %s", tree)
                    .contains("\"stopping\":true")
                    .doesNotContain("\"state\":\"STOPPING\"", "\"state\":\"STOPPED\"");
            for (String service : SampleObservabilityTest.SERVICES) {
                assertThat(tree).contains("{\"name\":\"" + service + "\",\"depth\":0,\"state\":\"RUNNING\"");
            }
            assertThat(sample.lines()).noneMatch(line -> line.contains(" - stopped "));
            assertThat(SampleObservabilityTest.get(base.resolve("healthz")).statusCode())
                    .as("alive while draining")
                    .isEqualTo(200);

            assertThat(sample.awaitExit(PATIENCE))
                    .as("exit code; output:\n%s", sample.output())
                    .isZero();
            assertThat(sample.output()).contains("stopped echo", "governor stopped");
        }
    }
}
