package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.Governor;
import dev.governor.GovernorEvent.Ready;
import dev.governor.GovernorEvent.Started;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Issue 16, item 7: background work does not gate readiness, and readiness flapping is logged sparingly. */
@GovernorTest
class ReadinessExclusionTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    @Test
    void shouldStayReadyWhileAnExcludedWorkerBacksOff(Governor gov, EventRecorder rec, VirtualClock clock)
            throws Exception {
        gov.add("web", Faults.runsUntilStopped());
        gov.add("worker", Faults.failsForever()).restart(Duration.ofSeconds(1)).excludeFromReadiness();
        gov.start();
        assertThat(gov.awaitReady(LONG)).isTrue();
        for (int i = 1; i <= 5; i++) {
            rec.awaitRestarts("worker", i);
            assertThat(gov.isReady())
                    .as("ready while worker is restarting (%d)", i)
                    .isTrue();
            clock.advance(Duration.ofSeconds(1));
        }
        assertThat(rec.events(Ready.class, "")).as("readiness never dropped").hasSize(1);
        assertThat(gov.service("worker").orElseThrow().state()).isIn(ServiceState.RUNNING, ServiceState.RESTARTING);
    }

    @Test
    void shouldStayReadyThroughZeroDelayRestartsDecidedInOneMessage(Governor gov, EventRecorder rec) throws Exception {
        gov.add("flaky", Faults.failsThenRuns(3)).restart(Duration.ZERO);
        gov.start();
        rec.awaitEvent(Started.class, "flaky", 3);
        assertThat(gov.awaitReady(LONG)).isTrue();
        // each failure is restarted in the message that handles it: RESTARTING and RUNNING again within
        // one message, so the governor's readiness never drops (with a delay the drop is real)
        assertThat(rec.events(Ready.class, ""))
                .as("the governor became ready once")
                .hasSize(1);
        assertThat(rec.events(Started.class, "flaky"))
                .extracting(Started::attempt)
                .containsExactly(0, 1, 2, 3);
    }

    @Test
    void shouldNotLetAnExcludedSupervisorGateReadinessButStillCountItForDependencies(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE);
        pool.add("w", Faults.readyAfter(Duration.ofSeconds(10))).readyOnStart(false);
        gov.add("pool", pool).excludeFromReadiness();
        gov.add("web", Faults.runsUntilStopped());
        gov.add("needsPool", Faults.runsUntilStopped()).dependsOn("pool");
        gov.start();
        rec.awaitEvent(Started.class, "web");
        assertThat(gov.isReady())
                .as("needsPool waits for pool, and gates readiness")
                .isFalse();
        clock.awaitPending(1, LONG);
        clock.advance(Duration.ofSeconds(10));
        rec.awaitEvent(Started.class, "needsPool");
        assertThat(gov.awaitReady(LONG)).isTrue();
    }

    @Test
    void shouldRejectExcludeFromReadinessAfterStart(Governor gov, EventRecorder rec) {
        var cfg = gov.add("a", Faults.runsUntilStopped());
        gov.start();
        rec.awaitEvent(Started.class, "a");
        assertThatThrownBy(cfg::excludeFromReadiness)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("excludeFromReadiness of \"a\" after it started");
        assertThatThrownBy(() -> cfg.significant(true))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("significant of \"a\"");
    }

    @Test
    void shouldLogReadinessFlappingAtMostOnceASecondAtInfo(Governor gov, EventRecorder rec, VirtualClock clock)
            throws Exception {
        gov.add("web", Faults.runsUntilStopped());
        gov.add("flapper", Faults.failsForever()).restart(Duration.ofMillis(100));
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new TeeStream(original, captured), true, StandardCharsets.UTF_8));
        try {
            gov.start();
            for (int i = 1; i <= 20; i++) { // 2 s of virtual time, 20 dips of readiness
                rec.awaitRestarts("flapper", i);
                clock.advance(Duration.ofMillis(100));
            }
            rec.awaitEvent(Started.class, "flapper", 21);
        } finally {
            System.setOut(original);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        long infoLines = log.lines()
                .filter(l -> l.contains(" INFO ") && l.contains("governor ready again")
                        || l.contains(" INFO ") && l.contains("governor not ready"))
                .count();
        // readiness changed about 40 times in 2 s; at most one INFO line per change per second
        assertThat(infoLines).as("INFO readiness lines in:%n%s", log).isBetween(1L, 4L);
        assertThat(log).contains("logged at DEBUG");
    }

    /** Writes to both streams. */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public synchronized void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public synchronized void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
