package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorEvent.ReloadRefused;
import dev.governor.GovernorEvent.Reloaded;
import dev.governor.GovernorEvent.Started;
import dev.governor.GovernorEvent.Stopped;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.test.EventRecorder;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Reloadable nodes: generations built, started beside, swapped, refused, drained and removed. */
@GovernorTest
class ReloadGenerationsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    /** A service that records which generation it belongs to and runs until stopped. */
    private static dev.governor.Service serving(List<String> log, int generation) {
        return serving(log, generation, false);
    }

    /**
     * Like {@link #serving(List, int)}, but ready only once its body logged its start (add it with
     * {@code readyOnStart(false)}): for a test that asserts the order of the log against a reload, which
     * goes on as soon as the next generation is ready.
     */
    private static dev.governor.Service servingReadyOnceLogged(List<String> log, int generation) {
        return serving(log, generation, true);
    }

    private static dev.governor.Service serving(List<String> log, int generation, boolean markReady) {
        return ctx -> {
            log.add("start " + generation);
            if (markReady) {
                ctx.markReady();
            }
            try {
                ctx.awaitStop();
            } finally {
                log.add("stop " + generation);
            }
        };
    }

    /**
     * The governor is ready once the first generation's run has started (ready on start), which can be
     * before its body wrote to the log.
     */
    private static void awaitFirstRun(List<String> log) {
        await().atMost(WAIT).until(() -> log.contains("start 1"));
    }

    @Test
    void shouldStartTheNextGenerationBesideTheCurrentOneThenStopTheOldOne(Governor gov, EventRecorder rec)
            throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        gov.add("db", ctx -> ctx.awaitStop());
        gov.addReloadable("app", (generation, number) -> {
            // ready on start, generation 2 could be ready (and generation 1 stopped) before its bodies logged
            generation.add("http", servingReadyOnceLogged(log, number)).readyOnStart(false);
            generation.add("worker", servingReadyOnceLogged(log, number)).readyOnStart(false);
        });
        gov.start();
        assertThat(gov.awaitReady(WAIT)).isTrue();
        assertThat(names(gov)).containsExactly("db", "app", "app/http", "app/worker");

        assertThat(gov.reload()).isTrue();

        assertThat(rec.awaitEvent(Reloaded.class, "app").generation()).isEqualTo(2);
        await().atMost(WAIT).until(() -> names(gov).equals(List.of("db", "app", "app/http", "app/worker")));
        // generation 2 started before generation 1 stopped; generation 1 stopped in reverse order
        assertThat(log).containsExactly("start 1", "start 1", "start 2", "start 2", "stop 1", "stop 1");
        assertThat(rec.events(Stopped.class))
                .extracting(GovernorEvent::service)
                .containsExactly("app~1/worker", "app~1/http", "app~1");
        assertThat(gov.service("app/http").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
        assertThat(gov.isReady()).isTrue();
        var status = GovernorRuntime.hooks(gov).reloadables();
        assertThat(status).singleElement().satisfies(s -> {
            assertThat(s.name()).isEqualTo("app");
            assertThat(s.generation()).isEqualTo(2);
            assertThat(s.lastOutcome()).isEqualTo("reloaded");
            assertThat(s.lastAt()).isPresent();
            assertThat(s.reloads()).isEqualTo(1);
        });
    }

    @Test
    void shouldKeepTheCurrentGenerationWhenTheBuilderThrows(Governor gov, EventRecorder rec) {
        List<String> log = new CopyOnWriteArrayList<>();
        AtomicReference<String> config = new AtomicReference<>("good");
        gov.addReloadable("app", (generation, number) -> {
            if (config.get().equals("broken")) {
                throw new IllegalArgumentException("config line 3: port \"x\" is not a number");
            }
            generation.add("http", serving(log, number));
        });
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        awaitFirstRun(log);
        config.set("broken");

        assertThat(gov.reload()).isFalse();

        ReloadRefused refused = rec.awaitEvent(ReloadRefused.class, "app");
        assertThat(refused.generation()).isEqualTo(2);
        assertThat(refused.cause()).hasMessage("config line 3: port \"x\" is not a number");
        assertThat(log).containsExactly("start 1");
        assertThat(names(gov)).containsExactly("app", "app/http");
        assertThat(gov.isReady()).isTrue();
        assertThat(GovernorRuntime.hooks(gov).lastReloadError())
                .isEqualTo(
                        "generation 2 of \"app\" refused: java.lang.IllegalArgumentException: config line 3: port \"x\" is not a number");
        config.set("good");
        assertThat(gov.reload()).as("the next good configuration is taken").isTrue();
        assertThat(rec.awaitEvent(Reloaded.class, "app").generation())
                .as("numbers count generations that served")
                .isEqualTo(2);
    }

    @Test
    void shouldRefuseAGenerationThatIsNotReadyWithinTheReloadTimeout(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        gov.addReloadable("app", (generation, number) -> {
            if (number == 1) {
                generation.add("http", serving(log, number));
            } else {
                generation
                        .add(
                                "http",
                                ctx -> { // never calls markReady
                                    log.add("start " + number);
                                    ctx.awaitStop();
                                    log.add("stop " + number);
                                })
                        .readyOnStart(false);
            }
        });
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        awaitFirstRun(log);
        CompletableFuture<Boolean> reload = CompletableFuture.supplyAsync(
                gov::reload, r -> Thread.ofVirtual().start(r));
        rec.awaitEvent(Started.class, "app/http", 2);
        assertThat(gov.isReady())
                .as("readiness does not dip while the next generation starts")
                .isTrue();
        await().atMost(WAIT).until(() -> clock.pending().contains(Duration.ofSeconds(30))); // the reload timeout runs
        clock.advance(Duration.ofSeconds(29));
        assertThat(reload).isNotDone();
        clock.advance(Duration.ofSeconds(1)); // the default reload timeout: 30 s

        assertThat(reload.get(30, TimeUnit.SECONDS)).isFalse();
        assertThat(rec.awaitEvent(ReloadRefused.class, "app").cause())
                .hasMessageContaining(
                        "generation 2 of \"app\" was not ready within 30000 ms (the reload timeout); not ready: [app/http]");
        assertThat(log).containsExactly("start 1", "start 2", "stop 2");
        assertThat(names(gov)).containsExactly("app", "app/http");
        assertThat(gov.service("app/http").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
        assertThat(rec.events(Reloaded.class)).isEmpty();
    }

    @Test
    void shouldRefuseAGenerationWhoseServiceFailsAtStart(Governor gov, EventRecorder rec) {
        List<String> log = new CopyOnWriteArrayList<>();
        gov.restart(Duration.ofSeconds(1));
        gov.addReloadable("app", (generation, number) -> {
            if (number == 1) {
                generation.add("http", serving(log, number));
            } else {
                generation
                        .add(
                                "http",
                                ctx -> { // fails before it would mark itself ready
                                    throw new java.net.BindException("Address already in use");
                                })
                        .readyOnStart(false);
            }
        });
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        awaitFirstRun(log);
        assertThat(gov.reload()).isFalse();
        assertThat(rec.awaitEvent(ReloadRefused.class, "app").cause()).isInstanceOf(java.net.BindException.class);
        assertThat(names(gov)).containsExactly("app", "app/http");
        assertThat(log).containsExactly("start 1");
    }

    @Test
    void shouldStopTheOldGenerationFirstWithSyncReload(Governor gov, EventRecorder rec) {
        List<String> log = new CopyOnWriteArrayList<>();
        gov.syncReload();
        gov.addReloadable("app", (generation, number) -> generation.add("lock-holder", serving(log, number)));
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");

        assertThat(gov.reload()).isTrue();

        rec.awaitEvent(Reloaded.class, "app");
        await().atMost(WAIT).until(() -> names(gov).equals(List.of("app", "app/lock-holder")));
        // generation 2 is ready on start: reload() returns once its run started, not once its body logged
        await().atMost(WAIT).until(() -> log.contains("start 2"));
        assertThat(log).containsExactly("start 1", "stop 1", "start 2");
    }

    @Test
    void shouldStartTheOldGenerationAgainWhenASyncReloadIsRefused(Governor gov, EventRecorder rec, VirtualClock clock)
            throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        gov.syncReload().reloadTimeout(Duration.ofSeconds(5));
        gov.addReloadable("app", (generation, number) -> {
            if (number == 1) {
                generation.add("lock-holder", serving(log, number));
            } else {
                generation.add("lock-holder", ctx -> ctx.awaitStop()).readyOnStart(false);
            }
        });
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        CompletableFuture<Boolean> reload = CompletableFuture.supplyAsync(
                gov::reload, r -> Thread.ofVirtual().start(r));
        rec.awaitEvent(Started.class, "app/lock-holder", 2);
        await().atMost(WAIT).until(() -> clock.pending().contains(Duration.ofSeconds(5))); // the reload timeout runs
        clock.advance(Duration.ofSeconds(5));
        assertThat(reload.get(30, TimeUnit.SECONDS)).isFalse();
        await().atMost(WAIT).until(() -> log.equals(List.of("start 1", "stop 1", "start 1")));
        assertThat(names(gov)).containsExactly("app", "app/lock-holder");
        await().atMost(WAIT).until(gov::isReady);
    }

    @Test
    void shouldRefuseAReloadOnceShutdownHasBegun(Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        AtomicInteger builds = new AtomicInteger();
        gov.addReloadable("app", (generation, number) -> {
            builds.incrementAndGet();
            generation.add("http", ctx -> ctx.awaitStop());
        });
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        gov.requestShutdown("test");
        assertThat(gov.reload()).isFalse();
        assertThat(rec.awaitEvent(ReloadRefused.class, "app").cause()).hasMessageContaining("shutdown has begun");
        assertThat(builds).hasValue(1);
    }

    @Test
    void shouldSerializeTwoReloadsAtOnce(Governor gov, EventRecorder rec) throws Exception {
        AtomicInteger building = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        List<Integer> built = new CopyOnWriteArrayList<>();
        List<Thread> callers = new CopyOnWriteArrayList<>();
        gov.addReloadable("app", (generation, number) -> {
            if (building.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            try {
                if (number == 2) {
                    // the first reload's build goes on only once the other caller is inside reload() and parked
                    await().atMost(WAIT)
                            .until(() -> callers.size() == 2
                                    && callers.stream().allMatch(t -> t == Thread.currentThread() || parked(t)));
                }
            } finally {
                building.decrementAndGet();
            }
            built.add(number);
            generation.add("http", ctx -> ctx.awaitStop());
        });
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        CompletableFuture<Boolean> a = new CompletableFuture<>();
        CompletableFuture<Boolean> b = new CompletableFuture<>();
        callers.add(Thread.ofVirtual().start(() -> a.complete(gov.reload())));
        callers.add(Thread.ofVirtual().start(() -> b.complete(gov.reload())));
        assertThat(a.get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(b.get(30, TimeUnit.SECONDS)).isTrue();
        assertThat(overlaps).hasValue(0);
        assertThat(built).containsExactly(1, 2, 3);
        rec.awaitEvent(Reloaded.class, "app", 2);
        assertThat(rec.events(Reloaded.class)).extracting(Reloaded::generation).containsExactly(2, 3);
        await().atMost(WAIT).until(() -> names(gov).equals(List.of("app", "app/http")));
    }

    @Test
    void shouldShowTheOutgoingGenerationWhileItDrains(Governor gov, EventRecorder rec, VirtualClock clock) {
        gov.addReloadable(
                "app",
                (generation, number) -> generation
                        .add("http", ctx -> {
                            ctx.awaitStop();
                            if (number == 1) {
                                Thread.sleep(
                                        Long.MAX_VALUE); // "finishing in-flight work": only the interrupt after the
                                // drain ends it
                            }
                        })
                        .drainTimeout(Duration.ofSeconds(10)));
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        assertThat(gov.reload()).isTrue();
        await().atMost(WAIT).until(() -> names(gov).equals(List.of("app~1", "app~1/http", "app", "app/http")));
        assertThat(gov.service("app~1/http").orElseThrow().state()).isEqualTo(ServiceState.STOPPING);
        assertThat(GovernorRuntime.hooks(gov).reloadables().getFirst().draining())
                .containsExactly(1);
        clock.advance(Duration.ofSeconds(10)); // the drain runs out: interrupted, it ends
        await().atMost(WAIT).until(() -> names(gov).equals(List.of("app", "app/http")));
        assertThat(GovernorRuntime.hooks(gov).reloadables().getFirst().draining())
                .isEmpty();
    }

    @Test
    void shouldFindTheCurrentGenerationByItsStablePath(Governor gov, EventRecorder rec) {
        AtomicInteger runs = new AtomicInteger();
        gov.addReloadable(
                "app",
                (generation, number) -> generation.add("http", ctx -> {
                    runs.incrementAndGet();
                    ctx.awaitStop();
                }));
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        assertThat(gov.reload()).isTrue();
        await().atMost(WAIT).until(() -> names(gov).equals(List.of("app", "app/http")));
        gov.restartChild("app/http"); // returns once the new run's thread started, not once its body ran
        await().atMost(WAIT).untilAsserted(() -> assertThat(runs).hasValue(3));
        assertThat(gov.service("app/http").orElseThrow().restarts()).isEqualTo(1);
    }

    @Test
    void shouldRejectBadReloadableArguments(Governor gov) {
        assertThatThrownBy(() -> gov.addReloadable("a~1", (g, n) -> {})).hasMessageContaining("must not contain '~'");
        assertThatThrownBy(() -> gov.addReloadable("a", null)).hasMessageContaining("must not be null");
        assertThatThrownBy(() -> gov.addReloadable("bad", (g, n) -> {
                    throw new java.io.IOException("no such file: app.conf");
                }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage(
                        "generation 1 of \"bad\" was refused by its builder: java.io.IOException: no such file: app.conf");
        assertThat(gov.services()).isEmpty();
        assertThatThrownBy(() -> gov.reloadTimeout(Duration.ZERO))
                .hasMessageContaining("reloadTimeout must be positive");
        assertThatThrownBy(gov::reload)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no reload handler");
    }

    private static List<String> names(Governor gov) {
        return gov.services().stream().map(ServiceInfo::name).toList();
    }

    private static boolean parked(Thread t) {
        Thread.State state = t.getState();
        return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING || state == Thread.State.BLOCKED;
    }
}
