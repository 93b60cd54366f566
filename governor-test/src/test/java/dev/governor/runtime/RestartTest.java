package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent.Completed;
import dev.governor.GovernorEvent.Escalated;
import dev.governor.GovernorEvent.Failed;
import dev.governor.GovernorEvent.Ready;
import dev.governor.GovernorEvent.Restarting;
import dev.governor.GovernorEvent.Started;
import dev.governor.GovernorEvent.Stopped;
import dev.governor.GovernorEvent.StoppedOnPurpose;
import dev.governor.RestartPolicy;
import dev.governor.ServiceCtx;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.StopService;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Outcomes of a run and what the restart policy makes of them, all on virtual time. */
@GovernorTest
class RestartTest {

    @Test
    void shouldNeverRestartAServiceThatThrowsStopServiceThreeCallsDeepEvenUnderAlways(Governor gov, EventRecorder rec) {
        AtomicInteger runs = new AtomicInteger();
        gov.add("deep", ctx -> {
                    runs.incrementAndGet();
                    level1();
                })
                .restartPolicy(RestartPolicy.always(Duration.ZERO));
        gov.add("keeper", Faults.runsUntilStopped());
        gov.start();

        StoppedOnPurpose stop = rec.awaitEvent(StoppedOnPurpose.class, "deep");
        assertThat(stop.reason()).isEqualTo("enough, from level 3");
        EventRecorder.awaitState(gov, "deep", ServiceState.STOPPED);
        assertThat(runs).hasValue(1);
        assertThat(rec.events(Restarting.class, "deep")).isEmpty();
    }

    /** The zero-delay restart is decided on the ending thread: it too looks through the cause chain. */
    @Test
    void shouldNeverRestartAServiceWhoseFailureWrapsAStopServiceEvenWithZeroDelay(Governor gov, EventRecorder rec) {
        AtomicInteger runs = new AtomicInteger();
        gov.add("wrapping", ctx -> {
                    runs.incrementAndGet();
                    throw new java.util.concurrent.CompletionException(
                            new IllegalStateException("the worker said", new StopService("done, said the worker")));
                })
                .restartPolicy(RestartPolicy.onFailure(Duration.ZERO));
        gov.add("keeper", Faults.runsUntilStopped());
        gov.start();

        StoppedOnPurpose stop = rec.awaitEvent(StoppedOnPurpose.class, "wrapping");
        assertThat(stop.reason()).isEqualTo("done, said the worker");
        EventRecorder.awaitState(gov, "wrapping", ServiceState.STOPPED);
        assertThat(runs).hasValue(1);
        assertThat(rec.events(Restarting.class, "wrapping")).isEmpty();
    }

    private static void level1() {
        level2();
    }

    private static void level2() {
        level3();
    }

    private static void level3() {
        throw new StopService("enough, from level 3");
    }

    @Test
    void shouldRestartAFailedServiceUnderOnFailureButNotACompletedOne(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        Faults.Counting failing = Faults.failsThenRuns(1);
        Faults.Counting completing = Faults.completesAtOnce();
        gov.add("failing", failing).restartPolicy(RestartPolicy.onFailure(Duration.ofSeconds(1)));
        gov.add("completing", completing).restartPolicy(RestartPolicy.onFailure(Duration.ofSeconds(1)));
        gov.start();

        rec.awaitEvent(Completed.class, "completing");
        Restarting r = rec.awaitEvent(Restarting.class, "failing");
        assertThat(r.delay()).isEqualTo(Duration.ofSeconds(1));
        clock.advance(Duration.ofSeconds(1));
        assertThat(rec.awaitEvent(Started.class, "failing", 2).attempt()).isEqualTo(1);
        EventRecorder.awaitState(gov, "completing", ServiceState.STOPPED);
        assertThat(completing.runs()).isEqualTo(1);
        rec.assertSequence(
                "failing", Started.class, Ready.class, Failed.class, Restarting.class, Started.class, Ready.class);
    }

    @Test
    void shouldRestartACompletedServiceUnderAlwaysWithAZeroDelay(Governor gov, EventRecorder rec) {
        AtomicInteger runs = new AtomicInteger();
        gov.add("again", ctx -> {
                    if (runs.incrementAndGet() >= 3) {
                        ctx.awaitStop();
                    }
                })
                .restartPolicy(RestartPolicy.always(Duration.ZERO));
        gov.start();
        assertThat(rec.awaitEvent(Started.class, "again", 3).attempt()).isEqualTo(2);
        assertThat(rec.events(Completed.class, "again")).hasSize(2);
    }

    @Test
    void shouldNotRestartAnythingUnderNeverAndEndTheGovernorWhenAllServicesEnded(Governor gov, EventRecorder rec) {
        gov.add("once", Faults.completesAtOnce());
        gov.add("broken", Faults.failsForever());
        gov.start();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(report.exitCode())
                .as("a natural end after a failure (issue 16, item 6)")
                .isEqualTo(1);
        assertThat(gov.service("broken").orElseThrow().state()).isEqualTo(ServiceState.FAILED);
        assertThat(gov.service("once").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
        assertThat(rec.events(Restarting.class)).isEmpty();
    }

    @Test
    void shouldWaitTheExactBackoffSequenceWithoutJitter(Governor gov, EventRecorder rec, VirtualClock clock) {
        Faults.Counting service = Faults.failsForever();
        gov.add("worker", service)
                .restartPolicy(
                        RestartPolicy.always(Duration.ofMillis(100)).withBackoff(Duration.ofSeconds(30), 2.0, 0.0));
        gov.start();
        List<Long> delays = new ArrayList<>();
        for (int i = 1; i <= 12; i++) {
            Restarting r = rec.awaitEvent(Restarting.class, "worker", i);
            delays.add(r.delay().toMillis());
            clock.advance(r.delay().minusNanos(1));
            assertThat(rec.events(Started.class, "worker"))
                    .as("no run before its delay has passed")
                    .hasSize(i);
            clock.advance(Duration.ofNanos(1));
            rec.awaitEvent(Started.class, "worker", i + 1);
        }
        assertThat(delays)
                .containsExactly(100L, 200L, 400L, 800L, 1600L, 3200L, 6400L, 12800L, 25600L, 30000L, 30000L, 30000L);
    }

    @Test
    void shouldResetTheBackoffAfterAStableRun(Governor gov, EventRecorder rec, VirtualClock clock) {
        AtomicInteger runs = new AtomicInteger();
        gov.add("worker", ctx -> {
                    int run = runs.incrementAndGet();
                    if (run == 3) {
                        ctx.sleep(Duration.ofMinutes(2)); // a stable run, longer than resetAfter
                    }
                    throw new IllegalStateException("run " + run);
                })
                .restartPolicy(RestartPolicy.always(Duration.ofMillis(100))
                        .withBackoff(Duration.ofSeconds(30), 2.0, 0.0)
                        .resetAfter(Duration.ofMinutes(1)));
        gov.start();
        assertThat(rec.awaitEvent(Restarting.class, "worker", 1).delay()).isEqualTo(Duration.ofMillis(100));
        clock.advance(Duration.ofMillis(100));
        assertThat(rec.awaitEvent(Restarting.class, "worker", 2).delay()).isEqualTo(Duration.ofMillis(200));
        clock.advance(Duration.ofMillis(200));
        rec.awaitEvent(Started.class, "worker", 3);
        awaitScheduled(clock, 1);
        clock.advance(Duration.ofMinutes(2));
        assertThat(rec.awaitEvent(Restarting.class, "worker", 3).delay())
                .as("after a run of 2 minutes the sequence starts again")
                .isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void shouldApplyTheGovernorsDefaultPolicyToServicesAddedBeforeAndAfterIt(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        gov.add("early", Faults.failsThenRuns(1));
        gov.restart(Duration.ofSeconds(3));
        gov.add("late", Faults.failsThenRuns(1));
        gov.add("own", Faults.failsThenRuns(1)).restart(Duration.ofSeconds(7));
        gov.start();
        assertThat(rec.awaitEvent(Restarting.class, "early").delay()).isEqualTo(Duration.ofSeconds(3));
        assertThat(rec.awaitEvent(Restarting.class, "late").delay()).isEqualTo(Duration.ofSeconds(3));
        assertThat(rec.awaitEvent(Restarting.class, "own").delay()).isEqualTo(Duration.ofSeconds(7));
    }

    @Test
    void shouldEscalateOnTheSixthFailureWithinTheWindowOfALimitOfFive(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        gov.add("keeper", Faults.runsUntilStopped());
        gov.add("crasher", Faults.failsForever())
                .restartPolicy(RestartPolicy.always(Duration.ofSeconds(1)).withLimit(5, Duration.ofSeconds(30)));
        gov.start();
        for (int i = 1; i <= 5; i++) {
            rec.awaitEvent(Restarting.class, "crasher", i);
            clock.advance(Duration.ofSeconds(1));
        }
        Escalated e = rec.awaitEvent(Escalated.class, "");
        assertThat(e.child()).as("the root gives up; crasher tipped it").isEqualTo("crasher");
        assertThat(e.restarts()).isEqualTo(5);
        assertThat(e.window()).isEqualTo(Duration.ofSeconds(30));
        ShutdownReport report = gov.waitForShutdown();
        assertThat(report.exitCode()).as("escalation at the root").isEqualTo(1);
        assertThat(report.fatalCause())
                .get()
                .extracting(Throwable::getMessage)
                .asString()
                .contains("crasher");
        assertThat(gov.service("crasher").orElseThrow().state()).isEqualTo(ServiceState.FAILED);
        assertThat(rec.events(Started.class, "crasher")).hasSize(6);
        assertThat(rec.events(Stopped.class, "keeper")).hasSize(1);
    }

    @Test
    void shouldNeverEscalateWhenFailuresAreFartherApartThanTheWindow(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        gov.add("crasher", Faults.failsForever())
                .restartPolicy(RestartPolicy.always(Duration.ofSeconds(31)).withLimit(5, Duration.ofSeconds(30)));
        gov.start();
        for (int i = 1; i <= 12; i++) {
            rec.awaitEvent(Restarting.class, "crasher", i);
            clock.advance(Duration.ofSeconds(31));
        }
        rec.awaitEvent(Started.class, "crasher", 13);
        assertThat(rec.events(Escalated.class)).isEmpty();
        assertThat(gov.stopping()).isFalse();
    }

    @Test
    void shouldCancelAPendingRestartOnShutdownWithoutAnotherRun(Governor gov, EventRecorder rec, VirtualClock clock) {
        Faults.Counting failing = Faults.failsForever();
        gov.add("failing", failing).restart(Duration.ofMinutes(10));
        gov.add("keeper", Faults.runsUntilStopped());
        gov.start();
        rec.awaitRestarts("failing", 1);
        gov.shutdown();
        clock.advance(Duration.ofHours(1));
        assertThat(failing.runs()).isEqualTo(1);
        assertThat(gov.service("failing").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
        assertThat(clock.pending()).as("the restart timer was cancelled").isEmpty();
    }

    @Test
    void shouldShutDownWithTheFatalExitCodeOnAVirtualMachineError(Governor gov, EventRecorder rec) {
        gov.add("keeper", Faults.runsUntilStopped());
        gov.add("doomed", ctx -> {
                    throw new OutOfMemoryError("simulated");
                })
                .restart(Duration.ZERO);
        gov.start();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(report.exitCode()).isEqualTo(70);
        assertThat(report.fatalCause()).get().isInstanceOf(OutOfMemoryError.class);
        assertThat(rec.events(Restarting.class, "doomed")).isEmpty();
        assertThat(gov.service("doomed").orElseThrow().state()).isEqualTo(ServiceState.FAILED);
    }

    @Test
    void shouldGiveEachRunAFreshContextWithAGrowingAttempt(Governor gov, EventRecorder rec, VirtualClock clock) {
        List<ServiceCtx> contexts = new ArrayList<>();
        gov.add("w", ctx -> {
                    synchronized (contexts) {
                        contexts.add(ctx);
                    }
                    if (ctx.attempt() < 2) {
                        throw new IllegalStateException("attempt " + ctx.attempt());
                    }
                    ctx.awaitStop();
                })
                .restart(Duration.ZERO);
        gov.start();
        rec.awaitEvent(Started.class, "w", 3);
        // Started is published as the run's thread starts, not once its body began: wait for the third context
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            synchronized (contexts) {
                return contexts.size() == 3;
            }
        });
        synchronized (contexts) {
            assertThat(contexts).extracting(ServiceCtx::attempt).containsExactly(0, 1, 2);
            assertThat(contexts).extracting(ServiceCtx::name).containsOnly("w");
            assertThat(contexts.stream().distinct()).hasSize(3);
        }
        assertThat(gov.service("w").orElseThrow().restarts()).isEqualTo(2);
        assertThat(gov.service("w").orElseThrow().lastFailure())
                .get()
                .extracting(Throwable::getMessage)
                .isEqualTo("attempt 1");
    }

    private static void awaitScheduled(VirtualClock clock, int n) {
        try {
            clock.awaitPending(n, Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
