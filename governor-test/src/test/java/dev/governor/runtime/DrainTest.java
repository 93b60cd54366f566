package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorEvent.StopTimedOut;
import dev.governor.GovernorEvent.Stopped;
import dev.governor.Service;
import dev.governor.ServiceCtx;
import dev.governor.ServiceState;
import dev.governor.Stoppable;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * drainTimeout: after the cancel, a run may finish in-flight work by itself for that long before
 * Stoppable.stop() and the interrupt; then its shutdown timeout applies. On every stop.
 */
@GovernorTest(allowUnstopped = true)
class DrainTest {

    /** Finishes its "in-flight request" when told to, whatever the cancel says; records how it was stopped. */
    static final class Draining implements Service, Stoppable {
        final CountDownLatch cancelled = new CountDownLatch(1);
        final CountDownLatch finish = new CountDownLatch(1);
        final AtomicInteger stops = new AtomicInteger();
        final AtomicBoolean interrupted = new AtomicBoolean();

        @Override
        public void run(ServiceCtx ctx) throws Exception {
            ctx.awaitStop();
            cancelled.countDown();
            try {
                finish.await();
            } catch (InterruptedException e) {
                interrupted.set(true);
                throw e;
            }
        }

        @Override
        public void stop() {
            stops.incrementAndGet();
        }
    }

    @Test
    void shouldLetARunFinishByItselfWithinItsDrainWithoutStopOrInterrupt(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Draining svc = new Draining();
        gov.add("http", svc).drainTimeout(Duration.ofSeconds(10));
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        CompletableFuture<Void> stop = CompletableFuture.runAsync(
                () -> gov.stopChild("http"), r -> Thread.ofVirtual().start(r));
        assertThat(svc.cancelled.await(30, TimeUnit.SECONDS)).isTrue();
        awaitScheduled(
                clock, Duration.ofSeconds(10), Duration.ofSeconds(15)); // the drain, then drain + shutdown timeout
        clock.advance(Duration.ofSeconds(9));
        svc.finish.countDown(); // the last response is written
        stop.get(30, TimeUnit.SECONDS);
        assertThat(svc.stops).hasValue(0);
        assertThat(svc.interrupted).isFalse();
        assertThat(rec.awaitEvent(Stopped.class, "http").stopTime()).isEqualTo(Duration.ofSeconds(9));
    }

    @Test
    void shouldStopAndInterruptARunThatIgnoresItsDrainWhenTheDrainRunsOut(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Draining svc = new Draining();
        gov.add("http", svc).drainTimeout(Duration.ofSeconds(10));
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        CompletableFuture<Void> stop = CompletableFuture.runAsync(
                () -> gov.stopChild("http"), r -> Thread.ofVirtual().start(r));
        assertThat(svc.cancelled.await(30, TimeUnit.SECONDS)).isTrue();
        awaitScheduled(
                clock, Duration.ofSeconds(10), Duration.ofSeconds(15)); // the drain, then drain + shutdown timeout
        clock.advance(Duration.ofSeconds(9));
        assertThat(svc.stops).as("not before the drain runs out").hasValue(0);
        clock.advance(Duration.ofSeconds(1));
        stop.get(30, TimeUnit.SECONDS);
        assertThat(svc.stops).hasValue(1);
        assertThat(svc.interrupted).isTrue();
        assertThat(rec.awaitEvent(Stopped.class, "http").stopTime()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void shouldReportUnstoppedAfterTheDrainPlusTheShutdownTimeout(Governor gov, EventRecorder rec, VirtualClock clock)
            throws Exception {
        Faults.IgnoresCancellation stubborn = Faults.ignoresCancellation();
        gov.add("stubborn", stubborn).drainTimeout(Duration.ofSeconds(10)).shutdownTimeout(Duration.ofSeconds(5));
        gov.start();
        stubborn.awaitEntered(Duration.ofSeconds(30));
        CompletableFuture<Void> stop = CompletableFuture.runAsync(
                () -> gov.stopChild("stubborn"), r -> Thread.ofVirtual().start(r));
        awaitScheduled(clock, Duration.ofSeconds(10), Duration.ofSeconds(15));
        clock.advance(Duration.ofSeconds(10)); // drain over: stop() and interrupt, both ignored
        clock.advance(Duration.ofSeconds(4));
        assertThat(stop).isNotDone();
        clock.advance(Duration.ofSeconds(1));
        stop.get(30, TimeUnit.SECONDS);
        assertThat(rec.awaitEvent(StopTimedOut.class, "stubborn").timeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(gov.service("stubborn").orElseThrow().state()).isEqualTo(ServiceState.STOPPING);
        stubborn.release();
    }

    @Test
    void shouldDrainInTheOrderedShutdownToo(Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        Draining svc = new Draining();
        gov.add("http", svc).drainTimeout(Duration.ofSeconds(10));
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        gov.requestShutdown("test");
        assertThat(svc.cancelled.await(30, TimeUnit.SECONDS)).isTrue();
        awaitScheduled(clock, Duration.ofSeconds(10));
        clock.advance(Duration.ofSeconds(3));
        svc.finish.countDown();
        assertThat(rec.awaitEvent(Stopped.class, "http").stopTime()).isEqualTo(Duration.ofSeconds(3));
        assertThat(svc.stops).hasValue(0);
        assertThat(svc.interrupted).isFalse();
    }

    private static void awaitScheduled(VirtualClock clock, Duration... delays) {
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(() -> clock.pending().containsAll(java.util.List.of(delays)));
    }

    @Test
    void shouldRejectANegativeDrain(Governor gov) {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> gov.add("x", ctx -> {}).drainTimeout(Duration.ofSeconds(-1)))
                .hasMessage("drain timeout of \"x\" must not be negative, was PT-1S");
    }
}
