package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorEvent.Started;
import dev.governor.GovernorEvent.StopTimedOut;
import dev.governor.GovernorEvent.Stopped;
import dev.governor.Service;
import dev.governor.ServiceCtx;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.Stoppable;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** How services are stopped, one by one and in a whole ordered shutdown. */
@GovernorTest(allowUnstopped = true)
class StoppingTest {

    @Test
    void shouldStopServicesInReverseStartOrder(Governor gov, EventRecorder rec) {
        for (String name : List.of("db", "cache", "api", "web")) {
            gov.add(name, Faults.runsUntilStopped());
        }
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        gov.shutdown();
        ShutdownReport report = gov.waitForShutdown();
        List<String> started =
                rec.events(Started.class).stream().map(GovernorEvent::service).toList();
        List<String> stopped =
                rec.events(Stopped.class).stream().map(GovernorEvent::service).toList();
        assertThat(started).containsExactly("db", "cache", "api", "web");
        assertThat(stopped).containsExactly("web", "api", "cache", "db");
        assertThat(report.stopTimes().keySet()).containsExactly("web", "api", "cache", "db");
        assertThat(report.exitCode()).isZero();
        assertThat(report.unstopped()).isEmpty();
    }

    @Test
    void shouldUnblockAServiceThatIgnoresInterruptsThroughStoppableStop(Governor gov, EventRecorder rec) {
        StubbornButStoppable svc = new StubbornButStoppable();
        gov.add("stubborn", svc);
        gov.start();
        rec.awaitEvent(Started.class, "stubborn");
        gov.stopChild("stubborn");
        assertThat(svc.stops).hasValue(1);
        assertThat(rec.events(Stopped.class, "stubborn")).hasSize(1);
        assertThat(rec.events(StopTimedOut.class)).isEmpty();
        assertThat(gov.service("stubborn").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
    }

    /** Waits on a latch ignoring interrupts and cancellation; only stop() releases it. */
    static final class StubbornButStoppable implements Service, Stoppable {
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger stops = new AtomicInteger();

        @Override
        public void run(ServiceCtx ctx) {
            while (release.getCount() > 0) {
                try {
                    release.await();
                } catch (InterruptedException ignored) {
                    // ignores interrupts on purpose
                }
            }
        }

        @Override
        public void stop() {
            stops.incrementAndGet();
            release.countDown();
        }
    }

    @Test
    void shouldReportAServiceThatIgnoresCancellationUnstoppedAndStillFinishWithinItsTimeout(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Faults.IgnoresCancellation stubborn = Faults.ignoresCancellation();
        gov.add("stubborn", stubborn).shutdownTimeout(Duration.ofSeconds(2));
        gov.add("polite", Faults.runsUntilStopped());
        gov.start();
        stubborn.awaitEntered(Duration.ofSeconds(30));
        try {
            AtomicReference<ShutdownReport> report = new AtomicReference<>();
            Thread waiter = Thread.ofVirtual().start(() -> report.set(gov.waitForShutdown()));
            gov.requestShutdown("test");
            rec.awaitEvent(Stopped.class, "polite");
            clock.awaitPending(1, Duration.ofSeconds(30));
            clock.advance(Duration.ofMillis(1999));
            assertThat(report.get()).as("still waiting within the timeout").isNull();
            clock.advance(Duration.ofMillis(1));
            waiter.join(Duration.ofSeconds(30));
            assertThat(report.get()).isNotNull();
            assertThat(report.get().unstopped()).containsExactly("stubborn");
            assertThat(report.get().duration()).isEqualTo(Duration.ofSeconds(2));
            assertThat(rec.awaitEvent(StopTimedOut.class, "stubborn").timeout()).isEqualTo(Duration.ofSeconds(2));
            assertThat(report.get().stopTimes()).containsOnlyKeys("polite");
        } finally {
            stubborn.release();
        }
        await().atMost(Duration.ofSeconds(30))
                .until(() -> GovernorRuntime.hooks(gov).liveThreads().isEmpty());
    }

    @Test
    void shouldBoundTheWholeShutdownByItsTimeout(Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Faults.IgnoresCancellation a = Faults.ignoresCancellation();
        Faults.IgnoresCancellation b = Faults.ignoresCancellation();
        gov.shutdownTimeout(Duration.ofSeconds(3));
        gov.add("a", a).shutdownTimeout(Duration.ofSeconds(10));
        gov.add("b", b).shutdownTimeout(Duration.ofSeconds(10));
        gov.start();
        a.awaitEntered(Duration.ofSeconds(30));
        b.awaitEntered(Duration.ofSeconds(30));
        try {
            gov.requestShutdown("test");
            clock.awaitPending(1, Duration.ofSeconds(30));
            clock.advance(Duration.ofSeconds(3));
            rec.awaitEvent(StopTimedOut.class, "a");
            ShutdownReport report = gov.waitForShutdown();
            assertThat(report.unstopped()).containsExactly("b", "a");
            assertThat(report.duration()).isEqualTo(Duration.ofSeconds(3));
        } finally {
            a.release();
            b.release();
        }
    }

    @Test
    void shouldCallStoppableStopOnceAndCarryOnWhenItThrows(Governor gov, EventRecorder rec) {
        Faults.ThrowsFromStop svc = Faults.throwsFromStop();
        gov.add("thrower", svc);
        gov.start();
        rec.awaitEvent(Started.class, "thrower");
        gov.shutdown();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(svc.stops()).isEqualTo(1);
        assertThat(report.unstopped()).isEmpty();
        assertThat(report.stopTimes()).containsOnlyKeys("thrower");
    }

    /** A blocking accept a Stoppable closes; stop() may throw a checked exception, run() too once stopped. */
    static final class ClosingAcceptor implements Service, Stoppable {
        final java.nio.channels.ServerSocketChannel server;
        final AtomicInteger stops = new AtomicInteger();
        final CountDownLatch accepting = new CountDownLatch(1);

        ClosingAcceptor() throws java.io.IOException {
            server = java.nio.channels.ServerSocketChannel.open()
                    .bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
        }

        @Override
        public void run(ServiceCtx ctx) throws java.io.IOException {
            accepting.countDown();
            server.accept().close(); // no stopping() guard: the exception after the stop request counts as stopped
        }

        @Override
        public void stop() throws java.io.IOException {
            stops.incrementAndGet();
            server.close();
            throw new java.io.IOException("stop() throws a checked exception on purpose");
        }
    }

    @Test
    void shouldCountACheckedThrowFromStopAndTheRunsAfterwardThrowAsStopped(Governor gov, EventRecorder rec)
            throws Exception {
        ClosingAcceptor svc = new ClosingAcceptor();
        gov.add("acceptor", svc);
        gov.start();
        assertThat(svc.accepting.await(30, java.util.concurrent.TimeUnit.SECONDS))
                .isTrue();
        rec.awaitEvent(Started.class, "acceptor");
        gov.stopChild("acceptor");
        assertThat(svc.stops.get()).isEqualTo(1);
        assertThat(svc.server.isOpen()).isFalse();
        assertThat(rec.events(Stopped.class, "acceptor")).hasSize(1);
        assertThat(rec.events(GovernorEvent.Failed.class, "acceptor")).isEmpty();
        assertThat(gov.service("acceptor").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
    }

    @Test
    void shouldUnblockASocketAcceptByInterruptingTheVirtualThread(Governor gov, EventRecorder rec) throws Exception {
        Faults.BlocksOnSocket svc = Faults.blocksOnSocket();
        gov.add("acceptor", svc);
        gov.start();
        svc.awaitListening(Duration.ofSeconds(30));
        gov.stopChild("acceptor");
        assertThat(rec.events(Stopped.class, "acceptor")).hasSize(1);
        assertThat(svc.socket().isClosed()).isTrue();
    }

    @Test
    void shouldLetEightConcurrentShutdownCallersAllReturnOnlyOnceTheTreeStopped(Governor gov, EventRecorder rec)
            throws Exception {
        for (int i = 0; i < 5; i++) {
            gov.add("s" + i, Faults.runsUntilStopped());
        }
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        CyclicBarrier barrier = new CyclicBarrier(8);
        List<Thread> callers = new ArrayList<>();
        List<Integer> stoppedSeen = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 8; i++) {
            callers.add(Thread.ofPlatform().start(() -> {
                try {
                    barrier.await();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
                gov.shutdown();
                stoppedSeen.add(rec.events(Stopped.class).size());
            }));
        }
        for (Thread t : callers) {
            t.join(Duration.ofSeconds(60));
            assertThat(t.isAlive()).isFalse();
        }
        assertThat(stoppedSeen).hasSize(8).containsOnly(5);
        assertThat(rec.events(GovernorEvent.ShutdownRequested.class)).hasSize(1);
    }

    @Test
    void shouldNotDeadlockWhenAServiceCallsShutdownFromItsOwnRun(Governor gov, EventRecorder rec) {
        AtomicReference<Boolean> stoppingAfterCall = new AtomicReference<>();
        gov.add("other", Faults.runsUntilStopped());
        gov.add("quitter", ctx -> {
            gov.shutdown();
            stoppingAfterCall.set(ctx.stopping() || gov.stopping());
            ctx.awaitStop();
        });
        gov.start();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(stoppingAfterCall.get()).isTrue();
        assertThat(report.exitCode()).isZero();
        assertThat(report.stopTimes()).containsOnlyKeys("quitter", "other");
    }

    @Test
    void shouldDeliverEveryShutdownEventBeforeShutdownReturns(Governor gov) {
        List<GovernorEvent> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        gov.onEvent(e -> {
            if (e instanceof Stopped) {
                Thread.yield();
            }
            seen.add(e);
        });
        gov.add("a", Faults.runsUntilStopped());
        gov.add("b", Faults.runsUntilStopped());
        gov.start();
        await().atMost(Duration.ofSeconds(30)).until(gov::isReady);
        gov.shutdown();
        assertThat(seen)
                .filteredOn(Stopped.class::isInstance)
                .extracting(GovernorEvent::service)
                .containsExactly("b", "a");
    }

    @Test
    void shouldReturnTheReportFromWaitForShutdownWhenEveryServiceEndedOnItsOwn(Governor gov) {
        gov.add("a", Faults.completesAtOnce());
        gov.add("b", ctx -> ctx.sleep(Duration.ZERO));
        gov.start();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(report.exitCode()).isZero();
        assertThat(gov.stopping()).isTrue();
        assertThat(gov.services()).extracting(i -> i.state()).containsOnly(ServiceState.STOPPED);
    }
}
