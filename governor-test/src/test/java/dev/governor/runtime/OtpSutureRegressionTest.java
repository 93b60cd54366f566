package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.AutoShutdown;
import dev.governor.EscalationException;
import dev.governor.Governor;
import dev.governor.GovernorEvent.Completed;
import dev.governor.GovernorEvent.Escalated;
import dev.governor.GovernorEvent.Failed;
import dev.governor.GovernorEvent.Restarting;
import dev.governor.GovernorEvent.Started;
import dev.governor.GovernorEvent.Stopped;
import dev.governor.GovernorEvent.StoppedOnPurpose;
import dev.governor.RestartPolicy;
import dev.governor.ServiceCtx;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.StopService;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Issue 16: the cases of Erlang/OTP's {@code supervisor_SUITE} and suture v4's tests where
 * Governor differed from both. Each test is named after the case it mirrors and says what broke;
 * each failed before the fix.
 */
@GovernorTest
class OtpSutureRegressionTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    // ---- item 1: a nested supervisor stays up (OTP auto_shutdown => never, the default) ----

    /** Broke: a nested supervisor whose only (temporary) child ended returned, and its parent restarted it forever. */
    @Test
    void auto_shutdown_never_keeps_a_nested_supervisor_up(Governor gov, EventRecorder rec) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE);
        sup.add("temp", Faults.completesAtOnce()).noRestart();
        gov.add("keeper", ServiceCtx::awaitStop);
        gov.add("sup", sup).restart(Duration.ZERO);
        gov.start();
        rec.awaitEvent(Completed.class, "sup/temp");
        gov.stopChild("keeper"); // a message to the root's loop: by now sup's loop handled temp's end
        assertThat(rec.events(Started.class, "sup/temp"))
                .as("the temporary child ran once")
                .hasSize(1);
        assertThat(rec.events(Started.class, "sup"))
                .as("the supervisor was never restarted")
                .hasSize(1);
        assertThat(rec.events(Completed.class, "sup")).isEmpty();
    }

    /** Broke: after stopChild of its only child, restartChild and add(...).start() on it threw "not running". */
    @Test
    void child_adm_restart_and_add_after_the_last_child_was_stopped(Governor gov, EventRecorder rec) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE);
        sup.add("only", Faults.runsUntilStopped());
        gov.add("keeper", Faults.runsUntilStopped());
        gov.add("sup", sup);
        gov.start();
        rec.awaitEvent(Started.class, "sup/only");
        sup.stopChild("only");
        sup.restartChild("only");
        assertThat(rec.awaitEvent(Started.class, "sup/only", 2).attempt()).isEqualTo(1);
        sup.stopChild("only");
        sup.add("late", Faults.runsUntilStopped()).start();
        rec.awaitEvent(Started.class, "sup/late");
        assertThat(gov.service("sup").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
    }

    /** OTP significant_temporary: any_significant, a temporary significant child ends → the supervisor completes. */
    @Test
    void significant_temporary(Governor gov, EventRecorder rec) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE).autoShutdown(AutoShutdown.ANY_SIGNIFICANT);
        CountDownLatch end = new CountDownLatch(1);
        sup.add("bystander", Faults.runsUntilStopped()).restart(Duration.ZERO);
        sup.add("sig", ctx -> end.await()).noRestart().significant(true);
        gov.add("keeper", Faults.runsUntilStopped());
        gov.add("sup", sup).noRestart();
        gov.start();
        rec.awaitEvent(Started.class, "sup/sig");
        end.countDown();
        rec.awaitEvent(Completed.class, "sup");
        assertThat(rec.events(Stopped.class, "sup/bystander")).hasSize(1);
        assertThat(gov.service("sup").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
        assertThat(gov.stopping()).as("keeper still runs: no natural end").isFalse();
    }

    /** OTP significant_transient: a transient significant child that fails is restarted; only its normal end counts. */
    @Test
    void significant_transient(Governor gov, EventRecorder rec) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE).autoShutdown(AutoShutdown.ANY_SIGNIFICANT);
        sup.add("sig", Faults.failsThenRuns(1))
                .restartPolicy(RestartPolicy.onFailure(Duration.ZERO))
                .significant(true);
        sup.add("other", Faults.runsUntilStopped());
        gov.add("keeper", Faults.runsUntilStopped());
        gov.add("sup", sup).noRestart();
        gov.start();
        rec.awaitEvent(Started.class, "sup/sig", 2);
        gov.stopChild("keeper");
        assertThat(rec.events(Completed.class, "sup")).isEmpty();
        sup.stopChild("sig"); // stopped by its supervisor: never an auto shutdown
        assertThat(gov.service("sup").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
        assertThat(rec.events(Completed.class, "sup")).isEmpty();
    }

    /** OTP significant_bystander, all_significant: only the end of the last significant child shuts it down. */
    @Test
    void significant_bystander_all_significant(Governor gov, EventRecorder rec) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE).autoShutdown(AutoShutdown.ALL_SIGNIFICANT);
        CountDownLatch endA = new CountDownLatch(1);
        CountDownLatch endB = new CountDownLatch(1);
        CountDownLatch endC = new CountDownLatch(1);
        sup.add("a", ctx -> endA.await()).significant(true);
        sup.add("b", ctx -> endB.await()).significant(true);
        sup.add("plain", ctx -> endC.await());
        gov.add("keeper", Faults.runsUntilStopped());
        gov.add("sup", sup).noRestart();
        gov.start();
        rec.awaitEvent(Started.class, "sup/b");
        endC.countDown();
        rec.awaitEvent(Completed.class, "sup/plain");
        endA.countDown();
        rec.awaitEvent(Completed.class, "sup/a");
        gov.stopChild("keeper");
        assertThat(rec.events(Completed.class, "sup"))
                .as("b, significant, still runs")
                .isEmpty();
        endB.countDown();
        rec.awaitEvent(Completed.class, "sup");
    }

    // ---- item 2: what really happened during a stop ----

    /**
     * OTP sup_stop_race (shutdown_error): a child that failed while its supervisor was busy stopping
     * a sibling was reported Stopped, with no Failed event and no lastFailure.
     */
    @Test
    void sup_stop_race(Governor gov, EventRecorder rec) throws Exception {
        AtomicReference<Thread> aThread = new AtomicReference<>();
        CountDownLatch failA = new CountDownLatch(1);
        gov.add("a", ctx -> {
            aThread.set(Thread.currentThread());
            failA.await();
            throw new IllegalStateException("a failed on its own");
        });
        gov.add("b", ctx -> {
                    ctx.awaitStop(); // stopped first (reverse order); while the loop waits for b, a fails
                    failA.countDown();
                    aThread.get().join();
                })
                .shutdownTimeout(LONG);
        gov.start();
        rec.awaitEvent(Started.class, "b");
        // Started comes as a's thread starts: b's stop joins the thread a's body records, so wait for it
        await().atMost(LONG).until(() -> aThread.get() != null);
        gov.requestShutdown("test");
        ShutdownReport report = gov.waitForShutdown();
        assertThat(report.exitCode()).as("a shutdown asked for").isZero();
        rec.assertSequence("a", Started.class, dev.governor.GovernorEvent.Ready.class, Failed.class);
        assertThat(rec.events(Failed.class, "a").getFirst().cause()).hasMessage("a failed on its own");
        assertThat(gov.service("a").orElseThrow().lastFailure())
                .get()
                .extracting(Throwable::getMessage)
                .isEqualTo("a failed on its own");
        assertThat(gov.service("a").orElseThrow().state()).isEqualTo(ServiceState.FAILED);
    }

    /**
     * suture TestStopAndRemove-like, during a sibling restart: a ONE_FOR_ALL sibling that threw
     * StopService while the loop was stopping the others was reported Stopped and started again.
     */
    @Test
    void one_for_all_other_child_stops_on_purpose_during_restart(Governor gov, EventRecorder rec) throws Exception {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ALL);
        AtomicReference<Thread> pThread = new AtomicReference<>();
        CountDownLatch stopP = new CountDownLatch(1);
        TreeTest.Trigger q = new TreeTest.Trigger();
        sup.add("p", ctx -> {
                    pThread.set(Thread.currentThread());
                    stopP.await();
                    throw new StopService("p is done");
                })
                .restart(Duration.ZERO);
        sup.add("q", q).restart(Duration.ZERO);
        sup.add("r", ctx -> {
                    ctx.awaitStop();
                    if (ctx.attempt() == 0) {
                        stopP.countDown(); // p ends by itself while the loop is busy stopping r
                        pThread.get().join();
                    }
                })
                .restart(Duration.ZERO);
        gov.add("sup", sup);
        gov.start();
        rec.awaitEvent(Started.class, "sup/r");
        // Started comes as p's thread starts: r's stop joins the thread p's body records, so wait for it
        await().atMost(LONG).until(() -> pThread.get() != null);
        q.fail.countDown();
        rec.awaitEvent(Started.class, "sup/r", 2);
        rec.awaitEvent(Started.class, "sup/q", 2);
        assertThat(rec.events(StoppedOnPurpose.class, "sup/p")).hasSize(1);
        assertThat(rec.events(Stopped.class, "sup/p")).isEmpty();
        assertThat(rec.events(Started.class, "sup/p"))
                .as("StopService: never started again")
                .hasSize(1);
        assertThat(gov.service("sup/p").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
    }

    // ---- item 3: a stop during the restart delay ----

    /**
     * OTP hanging_restart_loop_rest_for_one: stopping b during its restart delay left c
     * RESTARTING forever (the group's timer was cancelled) and the governor never ready again.
     */
    @Test
    void hanging_restart_loop_rest_for_one(Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Supervisor sup = Supervisor.create(Strategy.REST_FOR_ONE);
        TreeTest.Trigger sb = new TreeTest.Trigger();
        sup.add("a", Faults.runsUntilStopped());
        sup.add("b", sb).restart(Duration.ofSeconds(2));
        sup.add("c", Faults.runsUntilStopped()).restart(Duration.ofSeconds(2));
        gov.add("sup", sup);
        gov.start();
        assertThat(gov.awaitReady(LONG)).isTrue();
        sb.fail.countDown();
        rec.awaitRestarts("sup/c", 1);
        sup.stopChild("b");
        assertThat(gov.service("sup/b").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
        clock.advance(Duration.ofSeconds(2));
        assertThat(rec.awaitEvent(Started.class, "sup/c", 2).attempt()).isEqualTo(1);
        assertThat(gov.awaitReady(LONG)).as("ready again").isTrue();
        assertThat(rec.events(Started.class, "sup/b")).hasSize(1);
    }

    // ---- item 4: never two runs of one service ----

    /**
     * suture TestEverMultistarted: a child that would not stop was started again by its
     * supervisor's next incarnation while its first run still went on. Now the new incarnation
     * starts it once the old run ends.
     */
    @Test
    void TestEverMultistarted(Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        AtomicInteger live = new AtomicInteger();
        AtomicInteger maxLive = new AtomicInteger();
        CountDownLatch release = new CountDownLatch(1);
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE);
        AtomicInteger runs = new AtomicInteger();
        sup.add("stubborn", ctx -> {
                    int run = runs.incrementAndGet();
                    maxLive.accumulateAndGet(live.incrementAndGet(), Math::max);
                    try {
                        if (run == 1) {
                            while (release.getCount() > 0) {
                                try {
                                    release.await();
                                } catch (InterruptedException ignored) {
                                    // ignores its stop on purpose
                                }
                            }
                        } else {
                            ctx.awaitStop();
                        }
                    } finally {
                        live.decrementAndGet();
                    }
                })
                .shutdownTimeout(Duration.ofSeconds(1));
        gov.add("sup", sup).restart(Duration.ZERO);
        gov.start();
        rec.awaitEvent(Started.class, "sup/stubborn");
        Thread restarter = Thread.ofVirtual().start(() -> gov.restartChild("sup"));
        clock.awaitPending(1, LONG);
        clock.advance(Duration.ofSeconds(1));
        restarter.join(LONG);
        rec.awaitEvent(Started.class, "sup", 2);
        gov.add("probe", Faults.completesAtOnce()).start(); // a round trip through sup's parent loop
        sup.add("probe", Faults.completesAtOnce()).start(); // and through sup's new loop, after its start
        assertThat(rec.events(Started.class, "sup/stubborn"))
                .as("not started while its first run goes on")
                .hasSize(1);
        assertThat(gov.isReady()).as("sup waits for stubborn's start").isFalse();
        release.countDown();
        assertThat(rec.awaitEvent(Started.class, "sup/stubborn", 2).attempt()).isZero();
        assertThat(gov.awaitReady(LONG)).isTrue();
        assertThat(maxLive.get()).isEqualTo(1);
    }

    // ---- item 5: intensity 0 ----

    /** OTP one_for_one_escalation with intensity 0: the first restart escalates. It was rejected. */
    @Test
    void one_for_one_escalation_intensity_zero(Governor gov, EventRecorder rec) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE).intensity(0, Duration.ofSeconds(5));
        sup.add("w", Faults.failsForever()).restart(Duration.ZERO);
        sup.add("other", Faults.runsUntilStopped());
        gov.add("keeper", Faults.runsUntilStopped());
        gov.add("sup", sup).noRestart();
        gov.start();
        Escalated e = rec.awaitEvent(Escalated.class, "sup");
        assertThat(e.restarts()).isZero();
        EventRecorder.awaitState(gov, "sup", ServiceState.FAILED);
        assertThat(rec.events(Started.class, "sup/w")).hasSize(1);
        assertThat(rec.events(Restarting.class)).isEmpty();
    }

    // ---- item 6: exit codes of a natural end ----

    /** A daemon whose only service failed exited 0: systemd's Restart=on-failure never restarted it. */
    @Test
    void natural_end_after_a_failure_exits_with_the_escalation_code(Governor gov) {
        gov.add("svc", ctx -> {
            throw new IllegalStateException("boom");
        });
        gov.start();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(report.exitCode()).isEqualTo(1);
    }

    /** A subtree that escalated while added with never() ended the process with 0. */
    @Test
    void natural_end_after_a_subtree_gave_up_exits_with_the_escalation_code(Governor gov, EventRecorder rec) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE).intensity(1, Duration.ofMinutes(1));
        sup.add("w", Faults.failsForever()).restart(Duration.ZERO);
        gov.add("sup", sup);
        gov.start();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(report.exitCode()).isEqualTo(1);
        assertThat(gov.service("sup").orElseThrow().state()).isEqualTo(ServiceState.FAILED);
    }

    /** Every service completed or stopped on purpose: still 0; nested supervisors do not hold the end back. */
    @Test
    void natural_end_when_every_service_completed_exits_zero(Governor gov) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE);
        sup.add("done", Faults.completesAtOnce());
        sup.add("quits", ctx -> {
            throw new StopService("nothing to do");
        });
        gov.add("sup", sup);
        gov.add("top", Faults.completesAtOnce());
        gov.start();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(report.exitCode()).isZero();
        assertThat(report.stopTimes()).containsKey("sup");
    }

    // ---- item 8: Escalated names the supervisor that gave up ----

    /**
     * OTP one_for_one_escalation: when a child's own limit was exceeded the event named the child
     * ({@code Escalated[service=workers/worker-0]}), and the supervisor's cause was an internal type.
     */
    @Test
    void one_for_one_escalation_names_the_supervisor(Governor gov, EventRecorder rec) {
        Supervisor workers = Supervisor.create(Strategy.ONE_FOR_ONE);
        workers.add("worker-0", Faults.failsForever())
                .restartPolicy(RestartPolicy.always(Duration.ZERO).withLimit(2, Duration.ofMinutes(1)));
        gov.add("keeper", Faults.runsUntilStopped());
        gov.add("workers", workers).noRestart();
        gov.start();
        Escalated e = rec.awaitEvent(Escalated.class, "workers");
        assertThat(e.child()).isEqualTo("workers/worker-0");
        assertThat(e.restarts()).isEqualTo(2);
        assertThat(rec.events(Escalated.class)).hasSize(1);
        Failed f = rec.awaitEvent(Failed.class, "workers");
        assertThat(f.cause()).isInstanceOf(EscalationException.class);
        EscalationException cause = (EscalationException) f.cause();
        assertThat(cause.supervisor()).isEqualTo("workers");
        assertThat(cause.child()).isEqualTo("workers/worker-0");
        assertThat(cause.getClass().getPackageName()).isEqualTo("dev.governor");
    }
}
