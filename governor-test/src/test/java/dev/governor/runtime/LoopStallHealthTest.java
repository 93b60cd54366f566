package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.Service;
import dev.governor.ServiceCtx;
import dev.governor.ServiceState;
import dev.governor.runtime.metrics.GovernorEndpoint;
import dev.governor.test.VirtualClock;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * A supervisor loop stuck on one message makes the tree unhealthy (GovernorHooks.healthy, so
 * /healthz answers 503 and the systemd watchdog is withheld) once it has been busy for more than
 * 30 s on the governor's own clock, and healthy again once it moves on. Before issue 15 the stall
 * was measured with System.nanoTime(), so no test on virtual time could reach it.
 */
class LoopStallHealthTest {

    /** Ignores cancellation and interrupts: only {@link #release} ends its run. */
    static final class WillNotStop implements Service {
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch running = new CountDownLatch(1);

        @Override
        public void run(ServiceCtx ctx) {
            running.countDown();
            while (release.getCount() > 0) {
                try {
                    release.await();
                } catch (InterruptedException ignored) {
                    // deaf to interrupts on purpose: its supervisor's loop waits for it
                }
            }
        }
    }

    @Test
    void shouldReportALoopBusyLongerThanThirtySecondsOfGovernorTimeAsUnhealthyUntilItMovesOn() throws Exception {
        VirtualClock clock = new VirtualClock();
        Governor gov = Governor.create(clock.options());
        WillNotStop stuck = new WillNotStop();
        Thread stopper = null;
        try (HttpClient http = HttpClient.newHttpClient()) {
            gov.add("stuck", stuck).shutdownTimeout(Duration.ofMinutes(5));
            GovernorEndpoint endpoint =
                    GovernorEndpoint.builder(gov).port(0).jvmMetrics(false).build();
            endpoint.addTo(gov, "endpoint");
            gov.start();
            assertThat(gov.awaitReady(Duration.ofSeconds(30))).isTrue();
            assertThat(stuck.running.await(30, java.util.concurrent.TimeUnit.SECONDS))
                    .isTrue();
            GovernorHooks hooks = GovernorRuntime.hooks(gov);
            URI healthz = endpoint.uri().resolve("/healthz");
            assertThat(status(http, healthz)).isEqualTo(200);

            // the root loop takes the stop and waits (up to 5 virtual minutes) for a run that will not end
            int timersBefore = clock.pending().size();
            stopper = Thread.ofVirtual().name("stopper").start(() -> gov.stopChild("stuck"));
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> state(gov) == ServiceState.STOPPING
                            && clock.pending().size() > timersBefore);
            assertThat(hooks.healthy()).isTrue();

            clock.advance(Duration.ofSeconds(30)); // busy exactly the threshold: not yet a stall
            assertThat(hooks.healthy()).isTrue();
            assertThat(status(http, healthz)).isEqualTo(200);

            clock.advance(Duration.ofMillis(1)); // past it
            assertThat(hooks.healthy()).isFalse();
            assertThat(status(http, healthz)).isEqualTo(503);
            assertThat(state(gov)).isEqualTo(ServiceState.STOPPING);

            stuck.release.countDown(); // the run ends: the loop finishes the stop and waits again
            stopper.join(Duration.ofSeconds(30));
            assertThat(stopper.isAlive()).isFalse();
            assertThat(state(gov)).isEqualTo(ServiceState.STOPPED);
            await().atMost(Duration.ofSeconds(30)).until(hooks::healthy);
            assertThat(status(http, healthz)).isEqualTo(200);
        } finally {
            stuck.release.countDown();
            gov.shutdown();
            if (stopper != null) {
                stopper.join(Duration.ofSeconds(30));
            }
        }
    }

    private static ServiceState state(Governor gov) {
        return gov.service("stuck").orElseThrow().state();
    }

    private static int status(HttpClient http, URI uri) throws Exception {
        return http.send(
                        HttpRequest.newBuilder(uri)
                                .timeout(Duration.ofSeconds(30))
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }
}
