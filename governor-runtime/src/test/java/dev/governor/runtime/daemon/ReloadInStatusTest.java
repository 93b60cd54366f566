package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.runtime.metrics.GovernorEndpoint;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A reload through the control socket, and the generation and last outcome in status, /status.json and /metrics. */
class ReloadInStatusTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Governor gov;

    @AfterEach
    void stop() {
        if (gov != null) {
            gov.shutdown();
        }
    }

    @Test
    void theControlSocketReloadsAndReportsARefusalAndEveryViewShowsTheGeneration() throws Exception {
        AtomicBoolean broken = new AtomicBoolean();
        gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        gov.addReloadable("app", (generation, number) -> {
            if (broken.get()) {
                throw new IllegalArgumentException("app.conf: greeting must not be empty");
            }
            generation.add("http", ctx -> ctx.awaitStop());
        });
        Path sock = dir.resolve("ctl.sock");
        ControlSocket.at(sock).addTo(gov);
        GovernorEndpoint endpoint = GovernorEndpoint.builder(gov).port(0).build();
        endpoint.addTo(gov, "endpoint");
        gov.start();
        assertThat(gov.awaitReady(WAIT)).isTrue();

        try (ControlSocketTest.Client c = new ControlSocketTest.Client(sock)) {
            assertThat(c.ask("reload")).isEqualTo("{\"ok\":true,\"command\":\"reload\",\"generation:app\":2}");
            broken.set(true);
            assertThat(c.ask("reload"))
                    .isEqualTo("{\"ok\":false,\"error\":\"generation 3 of \\\"app\\\" refused:"
                            + " java.lang.IllegalArgumentException: app.conf: greeting must not be empty; the running services are kept"
                            + " (see the daemon's log)\"}");
            await().atMost(WAIT).until(() -> gov.service("app~1").isEmpty());
            assertThat(c.ask("status"))
                    .contains("\"reloadables\":[{\"name\":\"app\",\"generation\":2,\"lastReload\":\"refused\",")
                    .contains(
                            "\"lastError\":\"generation 3 of \\\"app\\\" refused: java.lang.IllegalArgumentException: app.conf: greeting must not be empty\"");
        }
        String status = EndpointPages.get(endpoint, "/status.json");
        assertThat(status)
                .contains(
                        "\"reloadables\":[{\"name\":\"app\",\"generation\":2,\"lastReload\":\"refused\",\"lastReloadAt\":\"")
                .contains("\"draining\":[]}]");
        String metrics = EndpointPages.get(endpoint, "/metrics");
        assertThat(metrics)
                .contains("governor_reload_generation{service=\"app\"} 2.0")
                .contains("governor_reload_last_success{service=\"app\"} 0.0")
                .contains("governor_reloads_total{outcome=\"reloaded\",service=\"app\"} 1.0")
                .contains("governor_reloads_total{outcome=\"refused\",service=\"app\"} 1.0")
                .containsPattern("governor_reload_last_timestamp_seconds\\{service=\"app\"} 1\\.\\d+E9");
    }
}
