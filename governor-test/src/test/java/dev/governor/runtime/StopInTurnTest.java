package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorEvent.Started;
import dev.governor.GovernorEvent.StopTimedOut;
import dev.governor.GovernorEvent.Stopped;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The stop paths made cheap for issue 13 (W1 stop, W3) keep their meaning: children in turn share
 * one timer yet each is bounded by its own timeout and the shutdown's; a pool's stop times are
 * recorded in bulk in stop order; the report lists what it listed.
 */
@GovernorTest(allowUnstopped = true)
class StopInTurnTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void shouldBoundEachChildInTurnByItsOwnTimeoutWhenItIsShorterThanTheOthersAndTheShutdowns(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Faults.IgnoresCancellation slow = Faults.ignoresCancellation(); // the default 5 s
        Faults.IgnoresCancellation quick = Faults.ignoresCancellation();
        gov.add("slow", slow);
        gov.add("polite1", Faults.runsUntilStopped());
        gov.add("quick", quick).shutdownTimeout(Duration.ofSeconds(2));
        gov.add("polite2", Faults.runsUntilStopped());
        gov.start();
        slow.awaitEntered(WAIT);
        quick.awaitEntered(WAIT);
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        try {
            AtomicReference<ShutdownReport> report = new AtomicReference<>();
            Thread waiter = Thread.ofVirtual().start(() -> report.set(gov.waitForShutdown()));
            gov.requestShutdown("test");
            rec.awaitEvent(Stopped.class, "polite2");
            awaitStopping(gov, "quick");
            clock.awaitPending(1, WAIT);
            assertThat(clock.pending())
                    .as("quick's own 2 s, not a timer left from polite2's 5 s")
                    .hasSize(1);
            clock.advance(Duration.ofMillis(1999));
            assertThat(rec.events(StopTimedOut.class))
                    .as("within quick's own timeout")
                    .isEmpty();
            clock.advance(Duration.ofMillis(1));
            assertThat(rec.awaitEvent(StopTimedOut.class, "quick").timeout()).isEqualTo(Duration.ofSeconds(2));
            rec.awaitEvent(Stopped.class, "polite1");
            awaitStopping(gov, "slow");
            clock.awaitPending(1, WAIT);
            clock.advance(Duration.ofMillis(4999));
            assertThat(rec.events(StopTimedOut.class, "slow"))
                    .as("slow's 5 s run from its own request")
                    .isEmpty();
            clock.advance(Duration.ofMillis(1));
            assertThat(rec.awaitEvent(StopTimedOut.class, "slow").timeout()).isEqualTo(Duration.ofSeconds(5));
            waiter.join(WAIT);
            assertThat(report.get()).isNotNull();
            assertThat(report.get().unstopped()).containsExactly("quick", "slow");
            assertThat(report.get().stopTimes()).containsOnlyKeys("polite2", "polite1");
            assertThat(report.get().stopTimes().keySet()).containsExactly("polite2", "polite1");
            assertThat(report.get().duration()).isEqualTo(Duration.ofSeconds(7));
        } finally {
            slow.release();
            quick.release();
        }
    }

    @Test
    void shouldBoundChildrenInTurnByTheShutdownsDeadlineWhenItComesFirst(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Faults.IgnoresCancellation a = Faults.ignoresCancellation();
        Faults.IgnoresCancellation b = Faults.ignoresCancellation();
        gov.shutdownTimeout(Duration.ofSeconds(4));
        gov.add("a", a); // 5 s of its own, but the shutdown has 4 s in all
        gov.add("polite", Faults.runsUntilStopped());
        gov.add("b", b).shutdownTimeout(Duration.ofSeconds(3));
        gov.start();
        a.awaitEntered(WAIT);
        b.awaitEntered(WAIT);
        try {
            gov.requestShutdown("test");
            awaitStopping(gov, "b");
            clock.awaitPending(1, WAIT);
            clock.advance(Duration.ofSeconds(3));
            rec.awaitEvent(StopTimedOut.class, "b");
            rec.awaitEvent(Stopped.class, "polite");
            awaitStopping(gov, "a");
            clock.awaitPending(1, WAIT);
            clock.advance(Duration.ofMillis(999));
            assertThat(rec.events(StopTimedOut.class, "a")).isEmpty();
            clock.advance(Duration.ofMillis(1));
            assertThat(rec.awaitEvent(StopTimedOut.class, "a").timeout()).isEqualTo(Duration.ofSeconds(1));
            ShutdownReport report = gov.waitForShutdown();
            assertThat(report.unstopped()).containsExactly("b", "a");
            assertThat(report.duration()).isEqualTo(Duration.ofSeconds(4));
        } finally {
            a.release();
            b.release();
        }
    }

    @Test
    void shouldStopManyChildrenInTurnInReverseOrderAndReportEachInStopOrder(Governor gov, EventRecorder rec) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            names.add("s" + i);
            gov.add("s" + i, Faults.runsUntilStopped());
        }
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        gov.shutdown();
        ShutdownReport report = gov.waitForShutdown();
        List<String> reversed = new ArrayList<>(names.reversed());
        assertThat(rec.events(Stopped.class).stream().map(GovernorEvent::service))
                .containsExactlyElementsOf(reversed);
        assertThat(report.stopTimes().keySet()).containsExactlyElementsOf(reversed);
        assertThat(report.unstopped()).isEmpty();
        assertThat(report.clean()).isTrue();
    }

    @Test
    void shouldRecordAPoolsStopTimesInStopOrderAroundAnUnstoppedChild(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Faults.IgnoresCancellation stuck = Faults.ignoresCancellation();
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            if (i == 20) {
                pool.add("w20", stuck).shutdownTimeout(Duration.ofSeconds(1));
            } else {
                pool.add("w" + i, Faults.runsUntilStopped());
                expected.add("pool/w" + i);
            }
        }
        gov.add("pool", pool);
        gov.start();
        stuck.awaitEntered(WAIT);
        rec.awaitEvent(Started.class, "pool/w49");
        try {
            gov.requestShutdown("test");
            awaitStopping(gov, "pool/w20");
            clock.awaitPending(1, WAIT);
            clock.advance(Duration.ofMillis(4999)); // one wait for the whole pool: the longest timeout of its children
            assertThat(rec.events(StopTimedOut.class)).isEmpty();
            clock.advance(Duration.ofMillis(1));
            assertThat(rec.awaitEvent(StopTimedOut.class, "pool/w20").timeout()).isEqualTo(Duration.ofSeconds(5));
            ShutdownReport report = gov.waitForShutdown();
            List<String> stopOrder = new ArrayList<>(expected.reversed());
            stopOrder.add("pool");
            assertThat(report.stopTimes().keySet()).containsExactlyElementsOf(stopOrder);
            assertThat(report.unstopped()).containsExactly("pool/w20");
            assertThat(rec.events(Stopped.class).stream().map(GovernorEvent::service))
                    .containsExactlyElementsOf(stopOrder);
            assertThat(expected)
                    .as("one end instant for the pool's wait, which lasted until w20's timeout")
                    .allSatisfy(p -> assertThat(report.stopTimes().get(p)).isEqualTo(Duration.ofSeconds(5)));
        } finally {
            stuck.release();
        }
    }

    private static void awaitStopping(Governor gov, String path) {
        await().atMost(WAIT).until(() -> gov.service(path).orElseThrow().state() == ServiceState.STOPPING);
    }
}
