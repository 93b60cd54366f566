package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent.Ready;
import dev.governor.GovernorEvent.Restarting;
import dev.governor.GovernorEvent.Started;
import dev.governor.ServiceState;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link ServiceState#STARTING} is what a child is while its start is decided but it waits for the
 * siblings it depends on; a child with nothing to wait for goes straight to RUNNING.
 */
@GovernorTest
class StartingStateTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private static ServiceState state(Governor gov, String path) {
        return gov.service(path).orElseThrow().state();
    }

    @Test
    void aChildWaitingForItsDependencyIsStartingThenRunning(Governor gov, EventRecorder rec, VirtualClock clock)
            throws Exception {
        gov.add("db", Faults.readyAfter(Duration.ofSeconds(5))).readyOnStart(false);
        gov.add("api", Faults.runsUntilStopped()).dependsOn("db");
        gov.add("free", Faults.runsUntilStopped());
        assertThat(state(gov, "api")).isEqualTo(ServiceState.NEW);
        gov.start();
        rec.awaitEvent(Started.class, "free");
        assertThat(state(gov, "api")).as("api waits for db to be ready").isEqualTo(ServiceState.STARTING);
        assertThat(state(gov, "db")).isEqualTo(ServiceState.RUNNING);
        assertThat(state(gov, "free"))
                .as("nothing to wait for: straight to RUNNING")
                .isEqualTo(ServiceState.RUNNING);
        assertThat(rec.events(Started.class, "api")).isEmpty();

        clock.awaitPending(1, WAIT);
        clock.advance(Duration.ofSeconds(5));
        rec.awaitEvent(Started.class, "api");
        assertThat(state(gov, "api")).isEqualTo(ServiceState.RUNNING);
    }

    @Test
    void stoppingOrShuttingDownAStartingChildStopsIt(Governor gov, EventRecorder rec, VirtualClock clock)
            throws Exception {
        gov.add("db", Faults.readyAfter(Duration.ofHours(1))).readyOnStart(false);
        gov.add("api", Faults.runsUntilStopped()).dependsOn("db");
        gov.add("web", Faults.runsUntilStopped()).dependsOn("db");
        gov.start();
        rec.awaitEvent(Started.class, "db");
        assertThat(state(gov, "api")).isEqualTo(ServiceState.STARTING);

        gov.stopChild("api");
        assertThat(state(gov, "api")).isEqualTo(ServiceState.STOPPED);
        assertThat(state(gov, "web")).isEqualTo(ServiceState.STARTING);
        gov.shutdown();
        assertThat(state(gov, "web"))
                .as("never started, stopped by the shutdown")
                .isEqualTo(ServiceState.STOPPED);
        assertThat(rec.events(Started.class, "api")).isEmpty();
        assertThat(rec.events(Started.class, "web")).isEmpty();
    }

    @Test
    void aChildRestartedByItsPolicyWhileItsDependencyIsNotReadyIsStartingUntilItIs(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        AtomicInteger runs = new AtomicInteger();
        gov.add("db", ctx -> {
                    if (runs.incrementAndGet() == 1 || !ctx.sleep(Duration.ofMinutes(1))) {
                        ctx.markReady(); // the first run at once, a restarted one after a minute
                    }
                    ctx.awaitStop();
                })
                .readyOnStart(false);
        CountDownLatch fail = new CountDownLatch(1);
        AtomicInteger apiRuns = new AtomicInteger();
        gov.add("api", ctx -> {
                    if (apiRuns.incrementAndGet() == 1) {
                        fail.await();
                        throw new IllegalStateException("api fails once, on purpose");
                    }
                    ctx.awaitStop();
                })
                .dependsOn("db")
                .restart(Duration.ZERO);
        gov.start();
        rec.awaitEvent(Ready.class, "");
        gov.restartChild("db"); // on request: at once, and db's new run is not ready for a minute
        fail.countDown();
        rec.awaitEvent(Restarting.class, "api");
        await().atMost(WAIT).until(() -> state(gov, "api") == ServiceState.STARTING);
        assertThat(rec.events(Started.class, "api"))
                .as("the restart waits for db")
                .hasSize(1);
        // restartChild returns once db's new run's thread started: advance only once its body sleeps
        await().atMost(WAIT).until(() -> clock.pending().contains(Duration.ofMinutes(1)));
        clock.advance(Duration.ofMinutes(1));
        rec.awaitEvent(Started.class, "api", 2);
        assertThat(state(gov, "api")).isEqualTo(ServiceState.RUNNING);
    }
}
