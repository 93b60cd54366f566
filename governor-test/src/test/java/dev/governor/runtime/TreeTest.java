package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorEvent.Escalated;
import dev.governor.GovernorEvent.Failed;
import dev.governor.GovernorEvent.Ready;
import dev.governor.GovernorEvent.Restarting;
import dev.governor.GovernorEvent.Started;
import dev.governor.GovernorEvent.Stopped;
import dev.governor.RestartPolicy;
import dev.governor.ServiceCtx;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/** OTP semantics of nested supervisors, one scenario per test, checked through the event sequence. */
@GovernorTest
class TreeTest {

    /** Fails when told to, once per trigger; otherwise runs until stopped. */
    static final class Trigger implements dev.governor.Service {
        final CountDownLatch fail = new CountDownLatch(1);
        final AtomicInteger runs = new AtomicInteger();

        @Override
        public void run(ServiceCtx ctx) throws Exception {
            int run = runs.incrementAndGet();
            if (run == 1) {
                while (!ctx.stopping()) {
                    if (fail.await(1, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                        throw new IllegalStateException("triggered");
                    }
                }
                return;
            }
            ctx.awaitStop();
        }
    }

    private static List<String> names(EventRecorder rec, Predicate<GovernorEvent> which) {
        return rec.events().stream()
                .filter(which)
                .map(e -> e.getClass().getSimpleName() + " " + e.service())
                .toList();
    }

    @Test
    void shouldNameNodesByTheirPathEverywhere(Governor gov, EventRecorder rec) {
        Supervisor db = Supervisor.create(Strategy.ONE_FOR_ONE);
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE);
        List<String> ctxNames = new java.util.concurrent.CopyOnWriteArrayList<>();
        pool.add("worker-7", ctx -> {
            ctxNames.add(ctx.name());
            ctx.awaitStop();
        });
        db.add("pool", pool); // built bottom-up: paths resolve on attach
        db.add("conn", Faults.runsUntilStopped());
        gov.add("db", db);
        gov.add("web", Faults.runsUntilStopped());
        gov.start();
        rec.awaitEvent(Ready.class, "");
        assertThat(gov.services())
                .extracting(ServiceInfo::name)
                .containsExactly("db", "db/pool", "db/pool/worker-7", "db/conn", "web");
        assertThat(gov.services())
                .filteredOn(ServiceInfo::supervisor)
                .extracting(ServiceInfo::name)
                .containsExactly("db", "db/pool");
        // ready on start: the governor can be ready before worker-7's body wrote its name
        await().atMost(Duration.ofSeconds(30)).until(() -> !ctxNames.isEmpty());
        assertThat(ctxNames).containsExactly("db/pool/worker-7");
        assertThat(pool.name()).isEqualTo("db/pool");
        assertThat(gov.service("db/pool/worker-7").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
        assertThat(rec.events(Started.class, "db/pool/worker-7")).hasSize(1);
        gov.shutdown();
        assertThat(names(rec, Stopped.class::isInstance))
                .containsExactly(
                        "Stopped web", "Stopped db/conn", "Stopped db/pool/worker-7", "Stopped db/pool", "Stopped db");
    }

    @Test
    void shouldStopAllSiblingsInReverseAndRestartAllInOrderUnderOneForAll(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        Supervisor sup =
                Supervisor.create(Strategy.ONE_FOR_ALL).restartPolicy(RestartPolicy.always(Duration.ofSeconds(1)));
        Trigger b = new Trigger();
        sup.add("a", Faults.runsUntilStopped());
        sup.add("b", b);
        sup.add("c", Faults.runsUntilStopped());
        gov.add("sup", sup);
        gov.start();
        rec.awaitEvent(Ready.class, "");
        b.fail.countDown();
        rec.awaitEvent(Started.class, "sup/a", 1);
        clock.advance(Duration.ZERO);
        rec.awaitEvent(Restarting.class, "sup/c");
        clock.advance(Duration.ofSeconds(1));
        rec.awaitEvent(Started.class, "sup/c", 2);
        Predicate<GovernorEvent> children = e -> e.service().startsWith("sup/");
        assertThat(names(rec, children.and(e -> !(e instanceof Ready))))
                .containsExactly(
                        "Started sup/a",
                        "Started sup/b",
                        "Started sup/c",
                        "Failed sup/b",
                        "Stopped sup/c",
                        "Stopped sup/a",
                        "Restarting sup/a",
                        "Restarting sup/b",
                        "Restarting sup/c",
                        "Started sup/a",
                        "Started sup/b",
                        "Started sup/c");
        assertThat(rec.events(Started.class, "sup/a").get(1).attempt())
                .as("a sibling's restart counts")
                .isEqualTo(1);
    }

    @Test
    void shouldRestartTheFailedChildAndTheOnesAfterItUnderRestForOne(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        Supervisor sup =
                Supervisor.create(Strategy.REST_FOR_ONE).restartPolicy(RestartPolicy.always(Duration.ofSeconds(1)));
        Trigger b = new Trigger();
        sup.add("a", Faults.runsUntilStopped());
        sup.add("b", b);
        sup.add("c", Faults.runsUntilStopped());
        sup.add("d", Faults.runsUntilStopped());
        gov.add("sup", sup);
        gov.start();
        rec.awaitEvent(Ready.class, "");
        b.fail.countDown();
        rec.awaitEvent(Restarting.class, "sup/d");
        clock.advance(Duration.ofSeconds(1));
        rec.awaitEvent(Started.class, "sup/d", 2);
        assertThat(names(rec, e -> e.service().startsWith("sup/") && !(e instanceof Ready)))
                .containsExactly(
                        "Started sup/a",
                        "Started sup/b",
                        "Started sup/c",
                        "Started sup/d",
                        "Failed sup/b",
                        "Stopped sup/d",
                        "Stopped sup/c",
                        "Restarting sup/b",
                        "Restarting sup/c",
                        "Restarting sup/d",
                        "Started sup/b",
                        "Started sup/c",
                        "Started sup/d");
        assertThat(rec.events(Started.class, "sup/a")).hasSize(1);
    }

    @Test
    void shouldNotRestartATemporaryChildWhenASiblingRestarts(Governor gov, EventRecorder rec, VirtualClock clock) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ALL).restartPolicy(RestartPolicy.always(Duration.ZERO));
        Trigger b = new Trigger();
        sup.add("temp", Faults.runsUntilStopped()).noRestart();
        sup.add("b", b);
        gov.add("sup", sup);
        gov.start();
        rec.awaitEvent(Ready.class, "");
        b.fail.countDown();
        rec.awaitEvent(Started.class, "sup/b", 2);
        rec.assertSequence("sup/temp", Started.class, Ready.class, Stopped.class);
        assertThat(gov.service("sup/temp").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
    }

    @Test
    void shouldNeverEscalateWhenRestartsAreSpreadWiderThanTheIntensityWindow(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE).intensity(2, Duration.ofSeconds(10));
        sup.add("w", Faults.failsForever()).restart(Duration.ofSeconds(6));
        gov.add("sup", sup);
        gov.start();
        for (int i = 1; i <= 8; i++) {
            rec.awaitRestarts("sup/w", i);
            clock.advance(Duration.ofSeconds(6));
        }
        rec.awaitEvent(Started.class, "sup/w", 9);
        assertThat(rec.events(Escalated.class)).isEmpty();
    }

    @Test
    void shouldFailASupervisorWhoseChildrenRestartMoreThanItsIntensity(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE).intensity(2, Duration.ofSeconds(10));
        sup.add("w", Faults.failsForever()).restart(Duration.ofSeconds(1));
        sup.add("other", Faults.runsUntilStopped());
        gov.add("sup", sup).noRestart();
        gov.add("bystander", Faults.runsUntilStopped());
        gov.start();
        for (int i = 1; i <= 2; i++) {
            rec.awaitRestarts("sup/w", i);
            clock.advance(Duration.ofSeconds(1));
        }
        Escalated e = rec.awaitEvent(Escalated.class, "sup");
        assertThat(e.restarts()).isEqualTo(2);
        Failed f = rec.awaitEvent(Failed.class, "sup");
        assertThat(f.cause().getMessage()).contains("supervisor \"sup\"").contains("intensity");
        EventRecorder.awaitState(gov, "sup", ServiceState.FAILED);
        assertThat(rec.events(Stopped.class, "sup/other")).hasSize(1);
        assertThat(gov.service("bystander").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
    }

    @Test
    void shouldEscalateThroughThreeLevelsToAShutdownWithExitCodeOne(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        Supervisor leaf = Supervisor.create(Strategy.ONE_FOR_ONE).intensity(1, Duration.ofMinutes(1));
        leaf.add("worker", Faults.failsForever()).restart(Duration.ZERO);
        Supervisor mid = Supervisor.create(Strategy.ONE_FOR_ONE).intensity(1, Duration.ofMinutes(1));
        mid.add("leaf", leaf).restart(Duration.ZERO);
        gov.add("mid", mid).restartPolicy(RestartPolicy.always(Duration.ZERO).withLimit(1, Duration.ofMinutes(1)));
        gov.add("bystander", Faults.runsUntilStopped());
        gov.start();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(report.exitCode()).isEqualTo(1);
        assertThat(report.fatalCause())
                .get()
                .extracting(Throwable::getMessage)
                .asString()
                .contains("mid");
        List<String> escalations = rec.events(Escalated.class).stream()
                .map(e -> e.service() + " <- " + e.child())
                .toList();
        // leaf gives up twice per incarnation of mid; mid gives up twice; the root's limit on mid ends it
        assertThat(escalations)
                .containsExactly(
                        "mid/leaf <- mid/leaf/worker",
                        "mid/leaf <- mid/leaf/worker",
                        "mid <- mid/leaf",
                        "mid/leaf <- mid/leaf/worker",
                        "mid/leaf <- mid/leaf/worker",
                        "mid <- mid/leaf",
                        " <- mid");
        assertThat(rec.events(Started.class, "mid")).hasSize(2);
        assertThat(gov.service("mid").orElseThrow().state()).isEqualTo(ServiceState.FAILED);
        assertThat(rec.events(Stopped.class, "bystander")).hasSize(1);
    }

    @Test
    void shouldStartTheChildrenOfARestartedSupervisorAnewFromAttemptZero(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        Supervisor sup = Supervisor.create(Strategy.ONE_FOR_ONE);
        Trigger t = new Trigger();
        sup.add("child", Faults.runsUntilStopped());
        sup.add("failing", t).restart(Duration.ZERO);
        gov.add("sup", sup);
        gov.add("dependent", Faults.runsUntilStopped());
        gov.start();
        rec.awaitEvent(Ready.class, "");
        sup.restartChild("child");
        assertThat(rec.awaitEvent(Started.class, "sup/child", 2).attempt()).isEqualTo(1);
        gov.restartChild("sup");
        assertThat(rec.awaitEvent(Started.class, "sup", 2).attempt()).isEqualTo(1);
        assertThat(rec.awaitEvent(Started.class, "sup/child", 3).attempt())
                .as("anew")
                .isZero();
        assertThat(rec.awaitEvent(Started.class, "sup/failing", 2).attempt()).isZero();
    }

    @Test
    void shouldStartDependentsOnlyAfterTheirDependenciesAreReadyAndStopThemFirst(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        gov.add("api", Faults.runsUntilStopped()).dependsOn("db", "cache");
        gov.add("db", Faults.readyAfter(Duration.ofSeconds(5))).readyOnStart(false);
        gov.add("cache", Faults.runsUntilStopped());
        gov.add("metrics", Faults.runsUntilStopped());
        gov.start();
        rec.awaitEvent(Started.class, "metrics");
        assertThat(rec.events(Started.class, "api")).as("db is not ready yet").isEmpty();
        assertThat(gov.services()).extracting(ServiceInfo::name).containsExactly("db", "cache", "api", "metrics");
        clock.awaitPending(1, Duration.ofSeconds(30));
        clock.advance(Duration.ofSeconds(5));
        rec.awaitEvent(Started.class, "api");
        rec.awaitEvent(Ready.class, "");
        gov.shutdown();
        assertThat(names(rec, Stopped.class::isInstance))
                .containsExactly("Stopped metrics", "Stopped api", "Stopped cache", "Stopped db");
    }

    @Test
    void shouldBeReadyOnlyWhenEveryNestedServiceIsReady(Governor gov, EventRecorder rec, VirtualClock clock)
            throws Exception {
        Supervisor inner = Supervisor.create(Strategy.ONE_FOR_ONE);
        inner.add("slow", Faults.readyAfter(Duration.ofSeconds(3))).readyOnStart(false);
        Supervisor outer = Supervisor.create(Strategy.ONE_FOR_ONE);
        outer.add("inner", inner);
        gov.add("outer", outer);
        gov.add("quick", Faults.runsUntilStopped());
        gov.start();
        rec.awaitEvent(Ready.class, "quick");
        clock.awaitPending(1, Duration.ofSeconds(30));
        assertThat(gov.isReady()).isFalse();
        assertThat(gov.service("outer/inner").orElseThrow().ready()).isFalse();
        clock.advance(Duration.ofSeconds(3));
        rec.awaitEvent(Ready.class, "");
        assertThat(rec.events(Ready.class).stream().map(GovernorEvent::service).toList())
                .containsSubsequence("outer/inner/slow", "outer/inner", "outer", "");
    }

    @Test
    void shouldStartAndStopAPoolOfTenThousandServicesInParallel(Governor gov, EventRecorder rec) {
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        for (int i = 0; i < 10_000; i++) {
            pool.add("w" + i, ServiceCtx::awaitStop);
        }
        gov.add("pool", pool);
        gov.start();
        rec.awaitEvent(Ready.class, "");
        assertThat(gov.services()).hasSize(10_001);
        assertThat(GovernorRuntime.hooks(gov).statusLine()).isEqualTo("10001 running");
        gov.shutdown();
        assertThat(gov.services()).extracting(ServiceInfo::state).containsOnly(ServiceState.STOPPED);
        assertThat(rec.events(Stopped.class)).hasSize(10_001);
    }

    @Test
    void shouldAddStopRestartAndRemoveChildrenAnywhereInARunningTree(Governor gov, EventRecorder rec) {
        Supervisor sub = Supervisor.create(Strategy.ONE_FOR_ONE);
        sub.add("a", Faults.runsUntilStopped());
        gov.add("sub", sub);
        gov.start();
        rec.awaitEvent(Ready.class, "");
        sub.add("b", Faults.runsUntilStopped()).start();
        rec.awaitEvent(Started.class, "sub/b");
        gov.restartChild("sub/a");
        rec.awaitEvent(Started.class, "sub/a", 2);
        gov.stopChild("sub/b");
        assertThat(gov.service("sub/b").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
        gov.removeChild("sub/a");
        assertThat(gov.services()).extracting(ServiceInfo::name).containsExactly("sub", "sub/b");
        Set<String> seen = ConcurrentHashMap.newKeySet();
        rec.events().forEach(e -> seen.add(e.service()));
        assertThat(seen).contains("sub/a", "sub/b");
    }
}
