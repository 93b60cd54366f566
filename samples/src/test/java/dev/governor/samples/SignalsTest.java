package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.test.ChildJvm;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Real signals sent with kill(1) to a child JVM running a governor. */
class SignalsTest {
    private static final Duration BOUND = Duration.ofSeconds(60);

    @Test
    void shouldStopTheSampleInReverseOrderOnSigtermAndExitZero() throws Exception {
        try (ChildJvm child = ChildJvm.builder(SampleDaemon.class)
                .arg("--port=0", "--metrics-port=0", "--tick=60000", "--flaky-fails=0")
                .start()) {
            child.awaitOutput(l -> l.contains("governor ready"), BOUND);
            child.signal("TERM");
            assertThat(child.awaitExit(BOUND)).isZero();
            List<String> stops = child.lines().stream()
                    .filter(l -> l.contains("INFO dev.governor - stopped "))
                    .toList();
            assertThat(stops).hasSize(4);
            assertThat(stops.get(0)).contains("stopped flaky");
            assertThat(stops.get(1)).contains("stopped ticker");
            assertThat(stops.get(2)).contains("stopped echo");
            assertThat(stops.get(3))
                    .as("the HTTP endpoint, added first, stops last")
                    .contains("stopped http");
            assertThat(child.output()).contains("received SIGTERM").contains("exit code 0");
        }
    }

    @Test
    void shouldStopOnSigintAndExitZero() throws Exception {
        try (ChildJvm child = ChildJvm.builder(StubbornDaemon.class).start()) {
            child.awaitOutput(l -> l.contains("governor ready"), BOUND);
            child.signal("INT");
            assertThat(child.awaitExit(BOUND)).isZero();
            assertThat(child.output()).contains("stopped stubborn").contains("stopped polite");
        }
    }

    @Test
    void shouldExitAtOnceWith143OnASecondSigtermDuringAStuckShutdown() throws Exception {
        try (ChildJvm child =
                ChildJvm.builder(StubbornDaemon.class).arg("--stubborn").start()) {
            child.awaitOutput(l -> l.contains("governor ready"), BOUND);
            child.signal("TERM");
            child.awaitOutput(l -> l.contains("shutting down: SIGTERM"), BOUND);
            // a repeat within 500 ms is the same request (issue 12.10): the operator's second signal comes later
            await().pollDelay(Duration.ofMillis(600))
                    .atMost(BOUND)
                    .until(() -> child.process().isAlive());
            child.signal("TERM");
            assertThat(child.awaitExit(BOUND)).isEqualTo(143);
            assertThat(child.output()).contains("second SIGTERM during shutdown: exiting now with 143");
        }
    }

    @Test
    void shouldExitWith130OnASecondSigint() throws Exception {
        try (ChildJvm child =
                ChildJvm.builder(StubbornDaemon.class).arg("--stubborn").start()) {
            child.awaitOutput(l -> l.contains("governor ready"), BOUND);
            child.signal("INT");
            child.awaitOutput(l -> l.contains("shutting down: SIGINT"), BOUND);
            await().pollDelay(Duration.ofMillis(600))
                    .atMost(BOUND)
                    .until(() -> child.process().isAlive());
            child.signal("INT");
            assertThat(child.awaitExit(BOUND)).isEqualTo(130);
        }
    }

    @Test
    void shouldReloadOnSighupWhenAHandlerIsSetAndKeepRunning() throws Exception {
        try (ChildJvm child =
                ChildJvm.builder(StubbornDaemon.class).arg("--reload").start()) {
            child.awaitOutput(l -> l.contains("governor ready"), BOUND);
            child.signal("HUP");
            child.awaitOutput(l -> l.contains("reload done"), BOUND);
            assertThat(child.output()).contains("reloaded with polite").contains("reloaded with stubborn");
            assertThat(child.process().isAlive()).isTrue();
            child.signal("TERM");
            assertThat(child.awaitExit(BOUND)).isZero();
        }
    }

    @Test
    void shouldShutDownOnSighupWithoutAReloadHandler() throws Exception {
        try (ChildJvm child = ChildJvm.builder(StubbornDaemon.class).start()) {
            child.awaitOutput(l -> l.contains("governor ready"), BOUND);
            child.signal("HUP");
            assertThat(child.awaitExit(BOUND)).isZero();
            assertThat(child.output()).contains("SIGHUP (no reload handler)");
        }
    }

    @Test
    void shouldLeaveNothingThatKeepsTheJvmAliveOnceWaitForShutdownReturned() throws Exception {
        try (ChildJvm child = ChildJvm.builder(ReturnsFromMain.class).start()) {
            child.awaitOutput(l -> l.contains("governor ready"), BOUND);
            child.signal("TERM");
            child.awaitOutput(l -> l.contains("main returns; exit code would be 0"), BOUND);
            assertThat(child.awaitExit(BOUND))
                    .as("the JVM ended on its own after main returned")
                    .isZero();
        }
    }
}
