package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorOptions;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Regression tests of issue 12 (hardening), one per defect, each named after what broke. Real
 * time and the real scheduler: what broke were bounds that real time never reached.
 */
class Issue12RegressionTest {
    private static final Duration BOUND = Duration.ofSeconds(30);
    private final CountDownLatch release = new CountDownLatch(1);
    private final List<Governor> started = new CopyOnWriteArrayList<>();

    @AfterEach
    void releaseListenersAndStop() throws Exception {
        release.countDown();
        for (Governor g : started) {
            g.requestShutdown("end of test");
            CompletableFuture<ShutdownReport> done = CompletableFuture.supplyAsync(
                    g::waitForShutdown, r -> Thread.ofVirtual().start(r));
            try {
                done.get(BOUND.toSeconds(), TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("governor did not stop within " + BOUND + " after the test: " + g);
            }
        }
    }

    private Governor governor(Duration shutdownTimeout) {
        Governor g = Governor.create(GovernorOptions.builder()
                .systemd(false)
                .shutdownTimeout(shutdownTimeout)
                .build());
        started.add(g);
        return g;
    }

    private void blockUninterruptibly() {
        while (true) {
            try {
                release.await();
                return;
            } catch (InterruptedException ignored) {
                // a hostile listener ignores interrupts
            }
        }
    }

    private static ShutdownReport shutdownWithin(Governor gov, Duration bound) throws Exception {
        CompletableFuture<ShutdownReport> done = CompletableFuture.supplyAsync(
                () -> {
                    gov.shutdown();
                    return gov.waitForShutdown();
                },
                r -> Thread.ofVirtual().start(r));
        return done.get(bound.toMillis(), TimeUnit.MILLISECONDS); // TimeoutException: the shutdown froze
    }

    // ---- 1. a listener that blocks, or throws a VirtualMachineError, froze shutdown ----

    /** Issue 12.1: the shutdown thread flushed the event bus without bound behind a blocked listener; services were never stopped. */
    @Test
    void blockedListenerFrozeShutdown() throws Exception {
        Governor gov = governor(Duration.ofSeconds(3));
        gov.onEvent(e -> blockUninterruptibly());
        gov.add("svc", ctx -> ctx.awaitStop());
        gov.start();
        await().atMost(BOUND).until(() -> gov.isReady());
        ShutdownReport report = shutdownWithin(gov, BOUND);
        assertThat(report.unstopped()).isEmpty();
        assertThat(report.stopTimes()).containsKey("svc");
        assertThat(gov.service("svc").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
    }

    /** Issue 12.1: a VirtualMachineError rethrown in delivery killed the delivery thread with its work counter set: no event was delivered again. */
    @Test
    void listenerThrowingAnErrorStoppedAllLaterDeliveries() throws Exception {
        Governor gov = governor(Duration.ofSeconds(10));
        AtomicBoolean thrown = new AtomicBoolean();
        List<GovernorEvent> heard = new CopyOnWriteArrayList<>();
        gov.onEvent(e -> {
            heard.add(e);
            if (thrown.compareAndSet(false, true)) {
                throw new StackOverflowError("listener overflow");
            }
        });
        gov.add("a", ctx -> ctx.awaitStop());
        gov.start();
        await().atMost(BOUND).until(() -> gov.isReady());
        gov.add("late", ctx -> ctx.awaitStop()).start();
        await().atMost(BOUND)
                .until(() -> heard.stream()
                        .anyMatch(e -> e instanceof GovernorEvent.Started s
                                && s.service().equals("late")));
        ShutdownReport report = shutdownWithin(gov, BOUND);
        assertThat(report.unstopped()).isEmpty();
        assertThat(heard)
                .anyMatch(
                        e -> e instanceof GovernorEvent.Stopped s && s.service().equals("a"));
    }

    /** Issue 12.1: stopChild and restartChild waited, without bound, for a blocked listener to hear of their work. */
    @Test
    void stopChildHungBehindABlockedListener() throws Exception {
        Governor gov = governor(Duration.ofSeconds(3));
        gov.add("a", ctx -> ctx.awaitStop());
        gov.add("b", ctx -> ctx.awaitStop());
        gov.start();
        await().atMost(BOUND).until(() -> gov.isReady());
        gov.onEvent(e -> blockUninterruptibly());
        CompletableFuture.runAsync(
                        () -> {
                            gov.stopChild("a");
                            gov.restartChild("b");
                        },
                        r -> Thread.ofVirtual().start(r))
                .get(BOUND.toSeconds(), TimeUnit.SECONDS);
        assertThat(gov.service("a").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
        assertThat(gov.service("b").orElseThrow().restarts()).isEqualTo(1);
    }

    /** Issue 12.1: internal (lifecycle) listeners queued behind a slow user listener, so systemd heard of nothing. */
    @Test
    void lifecycleListenersQueuedBehindASlowUserListener() throws Exception {
        Governor gov = governor(Duration.ofSeconds(3));
        CountDownLatch heardReady = new CountDownLatch(1);
        GovernorRuntime.hooks(gov).addLifecycleListener(new LifecycleListener() {
            @Override
            public void ready() {
                heardReady.countDown();
            }
        });
        gov.onEvent(e -> blockUninterruptibly());
        gov.add("svc", ctx -> ctx.awaitStop());
        gov.start();
        assertThat(heardReady.await(BOUND.toSeconds(), TimeUnit.SECONDS))
                .as("READY reached the lifecycle listener")
                .isTrue();
    }

    // ---- 2. huge durations ----

    /** Issue 12.2: 300 years as a nested supervisor's stop timeout overflowed toNanos and reported "stopped" while a service still ran. */
    @Test
    void centuriesOfStopTimeoutOverflowedOnANestedSupervisor() throws Exception {
        Governor gov = governor(Duration.ofDays(365L * 300));
        Supervisor nested = Supervisor.create(Strategy.ONE_FOR_ONE);
        nested.add("inner", ctx -> ctx.awaitStop()).shutdownTimeout(Duration.ofDays(365L * 300));
        gov.add("nested", nested).shutdownTimeout(Duration.ofDays(365L * 400));
        gov.start();
        await().atMost(BOUND).until(() -> gov.isReady());
        ShutdownReport report = shutdownWithin(gov, BOUND);
        assertThat(report.exitCode()).isZero();
        assertThat(report.unstopped()).isEmpty();
        assertThat(report.stopTimes()).containsKeys("nested/inner", "nested");
        assertThat(gov.service("nested/inner").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
    }

    /** Issue 12.2: ctx.sleep(400 years) threw ArithmeticException instead of sleeping until the stop. */
    @Test
    void sleepOfCenturiesThrewArithmeticException() throws Exception {
        Governor gov = governor(Duration.ofSeconds(10));
        AtomicInteger woke = new AtomicInteger();
        gov.add("sleeper", ctx -> {
            if (ctx.sleep(Duration.ofDays(365L * 400))) {
                woke.incrementAndGet();
            }
        });
        gov.start();
        await().atMost(BOUND).until(() -> gov.isReady());
        assertThat(gov.service("sleeper").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
        assertThat(gov.service("sleeper").orElseThrow().lastFailure()).isEmpty();
        ShutdownReport report = shutdownWithin(gov, BOUND);
        assertThat(report.unstopped()).isEmpty();
        assertThat(woke).hasValue(1);
    }

    // ---- 4. cleanup after awaitStop interrupted ----

    /** Issue 12.4: the woken thread cleared its "waiting on ctx" mark before the loop read it, and the loop interrupted its cleanup. */
    @Test
    void cleanupAfterAwaitStopWasInterrupted() throws Exception {
        int services = 400;
        Governor gov = governor(Duration.ofSeconds(60));
        AtomicInteger interrupted = new AtomicInteger();
        AtomicInteger cleaned = new AtomicInteger();
        for (int i = 0; i < services; i++) {
            gov.add("s" + i, ctx -> {
                ctx.awaitStop();
                try {
                    Thread.sleep(Duration.ofMillis(1)); // cleanup that blocks: an interrupt here is the bug
                    cleaned.incrementAndGet();
                } catch (InterruptedException e) {
                    interrupted.incrementAndGet();
                }
            });
        }
        gov.start();
        await().atMost(BOUND).until(() -> gov.isReady());
        for (int i = 0; i < services / 2; i++) {
            gov.stopChild("s" + i); // one at a time through the loop, as the control socket's stop does
        }
        ShutdownReport report = shutdownWithin(gov, BOUND);
        assertThat(report.unstopped()).isEmpty();
        assertThat(interrupted).as("cleanups interrupted of " + services).hasValue(0);
        assertThat(cleaned).hasValue(services);
    }

    // ---- 5. an exception whose getMessage() throws ----

    /** A failure whose every descriptive method throws. */
    static final class HostileException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        @Override
        public String getMessage() {
            throw new IllegalStateException("getMessage() is hostile");
        }

        @Override
        public String toString() {
            throw new IllegalStateException("toString() is hostile");
        }

        @Override
        public synchronized Throwable getCause() {
            throw new IllegalStateException("getCause() is hostile");
        }
    }

    /** Issue 12.5: logging such a failure on the supervisor loop threw, and the whole governor died (exit 70). */
    @Test
    void exceptionWhoseGetMessageThrowsKilledTheGovernor() throws Exception {
        Governor gov = governor(Duration.ofSeconds(10));
        AtomicInteger runs = new AtomicInteger();
        gov.add("hostile", ctx -> {
                    if (runs.incrementAndGet() <= 2) {
                        throw new HostileException();
                    }
                    ctx.awaitStop();
                })
                .restart(Duration.ofMillis(10));
        gov.onEvent(new dev.governor.GovernorListener() {
            @Override
            public void onEvent(GovernorEvent event) {
                throw new HostileException();
            }

            @Override
            public String toString() {
                throw new IllegalStateException("listener toString() is hostile");
            }
        });
        gov.start();
        await().atMost(BOUND).until(() -> runs.get() >= 3 && gov.isReady());
        assertThat(gov.stopping()).isFalse();
        assertThat(gov.service("hostile").orElseThrow().lastFailure()).get().isInstanceOf(HostileException.class);
        ShutdownReport report = shutdownWithin(gov, BOUND);
        assertThat(report.exitCode()).isZero();
        assertThat(report.fatalCause()).isEmpty();
    }
}
