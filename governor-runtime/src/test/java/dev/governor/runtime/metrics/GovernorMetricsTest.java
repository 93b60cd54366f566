package dev.governor.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.StopService;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GovernorMetricsTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private Governor gov;

    @AfterEach
    void shutdown() {
        if (gov != null) {
            gov.shutdown();
        }
    }

    private static void runUntilStopped(dev.governor.ServiceCtx ctx) throws InterruptedException {
        ctx.awaitStop();
    }

    private double gauge(String name, String... tags) {
        Gauge g = registry.find(name).tags(tags).gauge();
        assertThat(g).as("gauge %s %s", name, List.of(tags)).isNotNull();
        return g.value();
    }

    @Test
    void shouldReportEachServiceUpReadyAndTheCountsPerState() {
        gov = Governor.create();
        gov.add("web", GovernorMetricsTest::runUntilStopped);
        gov.add("late", ctx -> ctx.awaitStop()).readyOnStart(false);
        GovernorMetrics.of(gov).bindTo(registry);
        gov.start();

        await().atMost(PATIENCE).untilAsserted(() -> {
            assertThat(gauge("governor.service.up", "service", "web")).isEqualTo(1);
            assertThat(gauge("governor.service.ready", "service", "web")).isEqualTo(1);
            assertThat(gauge("governor.service.up", "service", "late")).isEqualTo(1);
            assertThat(gauge("governor.service.ready", "service", "late")).isEqualTo(0);
            assertThat(gauge("governor.services", "state", "running")).isEqualTo(2);
            assertThat(gauge("governor.services", "state", "failed")).isEqualTo(0);
            assertThat(gauge("governor.ready")).isEqualTo(0);
            assertThat(gauge("governor.healthy")).isEqualTo(1);
        });
    }

    /** Regression: a scrape right after start read the tree cached at bindTo, and showed a new service as NaN. */
    @Test
    void aServiceShouldReadAsUpAsSoonAsItsSeriesExist() {
        gov = Governor.create();
        GovernorMetrics.of(gov).bindTo(registry);
        gov.add("fresh", GovernorMetricsTest::runUntilStopped);
        gov.start();

        Gauge up = await().atMost(PATIENCE)
                .pollInterval(Duration.ofMillis(1))
                .until(
                        () -> registry.find("governor.service.up")
                                .tag("service", "fresh")
                                .gauge(),
                        g -> g != null);

        assertThat(up.value()).as("read at once, no second chance").isEqualTo(1);
    }

    @Test
    void shouldCountRestartsAndFailuresByExceptionOfAFlakyService() {
        gov = Governor.create();
        AtomicInteger runs = new AtomicInteger();
        gov.add("flaky", failingThrice(runs)).restartPolicy(RestartPolicy.onFailure(Duration.ofMillis(10)));
        GovernorMetrics.of(gov).bindTo(registry);
        gov.start();

        await().atMost(PATIENCE).untilAsserted(() -> {
            FunctionCounter restarts = registry.find("governor.service.restarts")
                    .tag("service", "flaky")
                    .functionCounter();
            assertThat(restarts).isNotNull();
            assertThat(restarts.count()).isEqualTo(3);
            Counter failures = flakyFailures();
            assertThat(failures).isNotNull();
            assertThat(failures.count()).isEqualTo(3);
            Timer failed = flakyFailedRuns();
            assertThat(failed).isNotNull();
            assertThat(failed.count()).isEqualTo(3);
            assertThat(gauge("governor.service.up", "service", "flaky")).isEqualTo(1);
        });
    }

    /**
     * The endpoint binds its registry on another thread while the governor starts: what happens
     * between {@code listenAhead()} and that bind (here: three failed runs, all of them finished
     * before the bind) is held and counted when the bind comes, in order, once.
     */
    @Test
    void eventsBetweenListenAheadAndTheBindAreCountedWhenTheBindComes() throws Exception {
        gov = Governor.create();
        AtomicInteger runs = new AtomicInteger();
        gov.add("flaky", failingThrice(runs)).restartPolicy(RestartPolicy.onFailure(Duration.ofMillis(10)));
        GovernorMetrics metrics = GovernorMetrics.of(gov);
        metrics.listenAhead();
        gov.start();
        assertThat(gov.awaitReady(PATIENCE)).isTrue();
        await().atMost(PATIENCE).until(() -> runs.get() == 4);
        assertThat(registry.getMeters()).as("nothing bound yet").isEmpty();

        metrics.bindTo(registry);

        await().atMost(PATIENCE).untilAsserted(() -> {
            Counter failures = flakyFailures();
            assertThat(failures)
                    .as("failures before the bind, counted at the bind")
                    .isNotNull();
            assertThat(failures.count()).isEqualTo(3);
            Timer failed = flakyFailedRuns();
            assertThat(failed).isNotNull();
            assertThat(failed.count()).isEqualTo(3);
        });
        Counter failures = flakyFailures();

        gov.restartChild("flaky"); // after the bind: counted as it comes, not held
        await().atMost(PATIENCE)
                .untilAsserted(() -> assertThat(registry.find("governor.service.run.duration")
                                .tags("service", "flaky", "outcome", "stopped")
                                .timer())
                        .isNotNull()
                        .extracting(Timer::count)
                        .isEqualTo(1L));
        assertThat(failures.count()).as("the held events were counted once").isEqualTo(3);
    }

    /** Held until the bind: a pool member's failures (they need a registry), not its other events. */
    @Test
    void aPoolStartingBeforeTheBindIsNotHeldButItsFailuresAreCounted() throws Exception {
        gov = Governor.create();
        Supervisor workers = Supervisor.create(Strategy.ONE_FOR_ONE);
        for (int i = 0; i < 200; i++) {
            workers.add("w" + i, GovernorMetricsTest::runUntilStopped);
        }
        AtomicInteger runs = new AtomicInteger();
        workers.add("flaky", ctx -> {
                    if (runs.incrementAndGet() <= 2) {
                        throw new IllegalStateException("not yet");
                    }
                    ctx.awaitStop();
                })
                .restartPolicy(RestartPolicy.onFailure(Duration.ofMillis(10)));
        gov.add("workers", workers);
        GovernorMetrics metrics =
                GovernorMetrics.builder(gov).aggregateChildrenOf("workers").build();
        metrics.listenAhead();
        gov.start();
        assertThat(gov.awaitReady(PATIENCE)).isTrue();
        await().atMost(PATIENCE).until(() -> runs.get() == 3);

        assertThat(metrics.heldEvents())
                .as("the pool's own node and two failures, not 201 members' starts")
                .isLessThan(50);
        metrics.bindTo(registry);

        await().atMost(PATIENCE).untilAsserted(() -> {
            assertThat(registry.find("governor.supervisor.children.restarts")
                            .tag("supervisor", "workers")
                            .functionCounter()
                            .count())
                    .isEqualTo(2);
            assertThat(registry.find("governor.supervisor.children.failures")
                            .tags("supervisor", "workers", "exception", IllegalStateException.class.getName())
                            .counter()
                            .count())
                    .isEqualTo(2);
        });
    }

    @Test
    void shouldTimeRunsByOutcomeAndMeasureTheShutdown() {
        gov = Governor.create();
        gov.add("done", ctx -> {}).noRestart();
        gov.add("quits", ctx -> {
            throw new StopService("nothing to do");
        });
        gov.add("worker", GovernorMetricsTest::runUntilStopped);
        GovernorMetrics.of(gov).bindTo(registry);
        gov.start();
        await().atMost(PATIENCE).untilAsserted(() -> {
            assertThat(timerCount("done", "completed")).isEqualTo(1);
            assertThat(timerCount("quits", "stopped")).isEqualTo(1);
        });
        assertThat(gauge("governor.shutdown.duration")).isZero();

        gov.shutdown();

        await().atMost(PATIENCE)
                .untilAsserted(() -> assertThat(timerCount("worker", "stopped")).isEqualTo(1));
        assertThat(registry.find("governor.shutdown.duration").timeGauge()).isNotNull();
        assertThat(gauge("governor.shutdown.duration")).isGreaterThan(0);
        assertThat(gauge("governor.ready")).isZero();
    }

    @Test
    void shouldTimeAFatalErrorAsFatal() {
        gov = Governor.create();
        gov.add("doomed", ctx -> {
            throw new OutOfMemoryError("pretend heap exhaustion");
        });
        gov.add("bystander", GovernorMetricsTest::runUntilStopped);
        GovernorMetrics.of(gov).bindTo(registry);
        gov.start();

        assertThat(gov.waitForShutdown().exitCode()).isEqualTo(gov.options().fatalExitCode());
        await().atMost(PATIENCE).untilAsserted(() -> {
            assertThat(timerCount("doomed", "fatal")).isEqualTo(1);
            assertThat(registry.find("governor.service.failures")
                            .tags("service", "doomed", "exception", OutOfMemoryError.class.getName())
                            .counter()
                            .count())
                    .isEqualTo(1);
        });
    }

    private long timerCount(String service, String outcome) {
        Timer t = registry.find("governor.service.run.duration")
                .tags("service", service, "outcome", outcome)
                .timer();
        return t == null ? 0 : t.count();
    }

    @Test
    void shouldMeasureUptimeOfTheCurrentRun() {
        gov = Governor.create();
        gov.add("steady", GovernorMetricsTest::runUntilStopped);
        GovernorMetrics.of(gov).bindTo(registry);
        gov.start();

        TimeGauge uptime = await().atMost(PATIENCE)
                .until(
                        () -> registry.find("governor.service.uptime")
                                .tag("service", "steady")
                                .timeGauge(),
                        g -> g != null);
        double first = await().atMost(PATIENCE).until(() -> uptime.value(TimeUnit.SECONDS), v -> v > 0);
        await().atMost(PATIENCE)
                .untilAsserted(() -> assertThat(uptime.value(TimeUnit.SECONDS)).isGreaterThan(first));
    }

    @Test
    void shouldRemoveTheSeriesOfARemovedService() {
        gov = Governor.create();
        gov.add("keep", GovernorMetricsTest::runUntilStopped);
        gov.add("temp", ctx -> {
                    throw new IllegalArgumentException("counted, then forgotten");
                })
                .noRestart();
        GovernorMetrics.of(gov).bindTo(registry);
        gov.start();
        await().atMost(PATIENCE)
                .until(() -> registry.find("governor.service.failures")
                                .tag("service", "temp")
                                .counter()
                        != null);

        gov.removeChild("temp");

        await().atMost(PATIENCE).untilAsserted(() -> {
            assertThat(registry.find("governor.service.up")
                            .tag("service", "temp")
                            .meters())
                    .isEmpty();
            assertThat(registry.getMeters())
                    .noneMatch(m -> "temp".equals(m.getId().getTag("service")));
        });
        assertThat(gauge("governor.service.up", "service", "keep")).isEqualTo(1);
    }

    @Test
    void shouldCountAPoolPerStateInsteadOfGivingEachMemberSeries() {
        gov = Governor.create();
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        AtomicInteger failedOnce = new AtomicInteger();
        for (int i = 0; i < 500; i++) {
            boolean flaky = i == 7;
            pool.add("w" + i, ctx -> {
                        if (flaky && failedOnce.getAndIncrement() == 0) {
                            throw new java.io.UncheckedIOException(new java.io.IOException("lost a connection"));
                        }
                        ctx.awaitStop();
                    })
                    .restart(Duration.ofMillis(10));
        }
        gov.add("pool", pool);
        gov.add("solo", GovernorMetricsTest::runUntilStopped);
        GovernorMetrics.builder(gov).aggregateChildrenOf("pool").build().bindTo(registry);
        gov.start();

        await().atMost(PATIENCE).untilAsserted(() -> {
            assertThat(gauge("governor.supervisor.children", "supervisor", "pool", "state", "running"))
                    .isEqualTo(500);
            assertThat(gauge("governor.supervisor.children", "supervisor", "pool", "state", "failed"))
                    .isEqualTo(0);
            assertThat(registry.find("governor.supervisor.children.restarts")
                            .tag("supervisor", "pool")
                            .functionCounter()
                            .count())
                    .isEqualTo(1);
            assertThat(registry.find("governor.supervisor.children.failures")
                            .tags("supervisor", "pool", "exception", java.io.UncheckedIOException.class.getName())
                            .counter()
                            .count())
                    .isEqualTo(1);
            assertThat(gauge("governor.services", "state", "running")).isEqualTo(502);
            assertThat(gauge("governor.service.up", "service", "pool")).isEqualTo(1);
            assertThat(gauge("governor.service.up", "service", "solo")).isEqualTo(1);
        });
        assertThat(registry.getMeters())
                .as("no series of its own for any member of the pool")
                .noneMatch(m -> m.getId().getTag("service") != null
                        && m.getId().getTag("service").startsWith("pool/"));
        assertThat(registry.getMeters().size())
                .as("series independent of the pool's size")
                .isLessThan(60);
    }

    @Test
    void shouldDescribeEveryMeterAndGiveAUnitToAllButBooleans() {
        gov = Governor.create();
        AtomicInteger runs = new AtomicInteger();
        gov.add("svc", ctx -> {
                    if (runs.incrementAndGet() == 1) {
                        throw new IllegalStateException("once");
                    }
                    ctx.awaitStop();
                })
                .restart(Duration.ofMillis(10));
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE);
        pool.add("m", GovernorMetricsTest::runUntilStopped);
        gov.add("pool", pool);
        GovernorMetrics.builder(gov).aggregateChildrenOf("pool").build().bindTo(registry);
        gov.start();
        await().atMost(PATIENCE)
                .until(() -> registry.find("governor.service.run.duration").timer() != null);

        Set<String> booleans =
                Set.of("governor.service.up", "governor.service.ready", "governor.ready", "governor.healthy");
        List<Meter> ours = registry.getMeters().stream()
                .filter(m -> m.getId().getName().startsWith("governor."))
                .toList();
        assertThat(ours)
                .extracting(m -> m.getId().getName())
                .contains(
                        "governor.services",
                        "governor.ready",
                        "governor.shutdown.duration",
                        "governor.service.up",
                        "governor.service.ready",
                        "governor.service.restarts",
                        "governor.service.failures",
                        "governor.service.uptime",
                        "governor.service.run.duration",
                        "governor.supervisor.children",
                        "governor.supervisor.children.restarts");
        for (Meter m : ours) {
            assertThat(m.getId().getDescription())
                    .as("description of %s", m.getId())
                    .isNotBlank();
            if (!booleans.contains(m.getId().getName())) {
                assertThat(m.getId().getBaseUnit())
                        .as("base unit of %s", m.getId())
                        .isNotBlank();
            }
        }
    }

    @Test
    void bindToShouldNeverThrowEvenWhenTheRegistryRefusesMeters() throws InterruptedException {
        gov = Governor.create();
        gov.add("svc", GovernorMetricsTest::runUntilStopped);
        MeterRegistry hostile = new SimpleMeterRegistry();
        hostile.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                throw new IllegalStateException("this registry refuses " + id.getName());
            }
        });

        assertThatCode(() -> GovernorMetrics.of(gov).bindTo(hostile)).doesNotThrowAnyException();
        gov.start();
        assertThat(gov.awaitReady(PATIENCE)).isTrue();
    }

    /** A service that fails its first three runs ("failure 1" to "failure 3"), then runs until stopped. */
    private static Service failingThrice(AtomicInteger runs) {
        return ctx -> {
            if (runs.incrementAndGet() <= 3) {
                throw new IllegalStateException("failure " + runs.get());
            }
            ctx.awaitStop();
        };
    }

    private Counter flakyFailures() {
        return registry.find("governor.service.failures")
                .tags("service", "flaky", "exception", IllegalStateException.class.getName())
                .counter();
    }

    private Timer flakyFailedRuns() {
        return registry.find("governor.service.run.duration")
                .tags("service", "flaky", "outcome", "failed")
                .timer();
    }
}
