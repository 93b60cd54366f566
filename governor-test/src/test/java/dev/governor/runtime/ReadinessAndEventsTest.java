package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorEvent.Ready;
import dev.governor.GovernorEvent.Started;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Readiness of the governor, the global context, snapshots and listeners. */
@GovernorTest
class ReadinessAndEventsTest {

    @Test
    void shouldBecomeReadyOnlyWhenEveryServiceIsReadyAndDropAtTheFirstMomentOfShutdown(
            Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        gov.add("fast", Faults.runsUntilStopped());
        gov.add("slow", Faults.readyAfter(Duration.ofSeconds(10))).readyOnStart(false);
        AtomicBoolean readyWhenShutdownSeen = new AtomicBoolean(true);
        gov.onEvent(e -> {
            if (e instanceof GovernorEvent.ShutdownRequested) {
                readyWhenShutdownSeen.set(gov.isReady());
            }
        });
        gov.start();
        rec.awaitEvent(Ready.class, "fast");
        assertThat(gov.isReady()).isFalse();
        assertThat(gov.awaitReady(Duration.ZERO)).isFalse();
        clock.awaitPending(1, Duration.ofSeconds(30));
        clock.advance(Duration.ofSeconds(10));
        rec.awaitEvent(Ready.class, "");
        assertThat(gov.isReady()).isTrue();
        assertThat(gov.awaitReady(Duration.ofSeconds(1))).isTrue();
        assertThat(gov.service("slow").orElseThrow().ready()).isTrue();
        gov.shutdown();
        assertThat(gov.isReady()).isFalse();
        assertThat(readyWhenShutdownSeen).isFalse();
    }

    @Test
    void shouldCancelTheGlobalContextWhenShutdownBegins(Governor gov, VirtualClock clock) throws Exception {
        gov.add("a", Faults.runsUntilStopped());
        gov.start();
        AtomicBoolean woke = new AtomicBoolean();
        Thread sleeper = Thread.ofVirtual().start(() -> woke.set(gov.sleep(Duration.ofDays(1))));
        clock.awaitPending(1, Duration.ofSeconds(30));
        assertThat(gov.globalContext().stopping()).isFalse();
        gov.shutdown();
        sleeper.join(Duration.ofSeconds(30));
        assertThat(woke).isTrue();
        assertThat(gov.stopping()).isTrue();
        assertThat(gov.globalContext().stopping()).isTrue();
    }

    @Test
    void shouldWakeCtxSleepWhenTheClockReachesItAndNotBefore(Governor gov, EventRecorder rec, VirtualClock clock)
            throws Exception {
        AtomicInteger ticks = new AtomicInteger();
        gov.add("ticker", ctx -> {
            while (!ctx.sleep(Duration.ofMinutes(1))) {
                ticks.incrementAndGet();
            }
        });
        gov.start();
        for (int i = 1; i <= 3; i++) {
            clock.awaitPending(1, Duration.ofSeconds(30));
            clock.advance(Duration.ofSeconds(59));
            assertThat(ticks).hasValue(i - 1);
            clock.advance(Duration.ofSeconds(1));
            int expected = i;
            await().atMost(Duration.ofSeconds(30)).until(() -> ticks.get() == expected);
        }
    }

    @Test
    void shouldListTheTreeInStartOrderWithSnapshotsThatDoNotChangeUnderTheReader(
            Governor gov, EventRecorder rec, VirtualClock clock) {
        gov.add("one", Faults.runsUntilStopped());
        gov.add("two", Faults.failsForever()).restart(Duration.ofSeconds(5));
        gov.start();
        rec.awaitRestarts("two", 1);
        List<ServiceInfo> before = gov.services();
        assertThat(before).extracting(ServiceInfo::name).containsExactly("one", "two");
        ServiceInfo two = gov.service("two").orElseThrow();
        assertThat(two.state()).isEqualTo(ServiceState.RESTARTING);
        assertThat(two.lastFailure()).get().isInstanceOf(Faults.InjectedFailure.class);
        assertThat(two.startedAt()).contains(clock.instant());
        clock.advance(Duration.ofSeconds(5));
        rec.awaitEvent(Started.class, "two", 2);
        assertThat(before.get(1).state()).as("an old snapshot is immutable").isEqualTo(ServiceState.RESTARTING);
        assertThat(gov.service("nope")).isEmpty();
    }

    @Test
    void shouldKeepAListenerThatThrowsAndDeliverInOrder(Governor gov, EventRecorder rec) {
        AtomicInteger calls = new AtomicInteger();
        gov.onEvent(e -> {
            calls.incrementAndGet();
            throw new IllegalStateException("listener bug");
        });
        List<String> order = new ArrayList<>();
        gov.onEvent(e -> {
            synchronized (order) {
                order.add(e.getClass().getSimpleName() + ":" + e.service());
            }
        });
        gov.add("a", Faults.completesAtOnce());
        gov.add("b", Faults.completesAtOnce());
        gov.start();
        gov.waitForShutdown();
        assertThat(calls.get()).isEqualTo(rec.events().size()).isGreaterThan(4);
        synchronized (order) {
            assertThat(order).containsSubsequence("Started:a", "Started:b");
            assertThat(order).containsSubsequence("Started:a", "Completed:a");
            assertThat(order.getLast()).isEqualTo("ShutdownRequested:");
        }
    }

    @Test
    void shouldHonourReadyOnStartFalseUntilMarkReady(Governor gov, EventRecorder rec) {
        AtomicBoolean go = new AtomicBoolean();
        gov.add("manual", ctx -> {
                    await().atMost(Duration.ofSeconds(30)).untilTrue(go);
                    ctx.markReady();
                    ctx.markReady();
                    ctx.awaitStop();
                })
                .readyOnStart(false);
        gov.start();
        rec.awaitEvent(Started.class, "manual");
        assertThat(gov.service("manual").orElseThrow().ready()).isFalse();
        assertThat(gov.isReady()).isFalse();
        go.set(true);
        rec.awaitEvent(Ready.class, "");
        assertThat(rec.events(Ready.class, "manual")).hasSize(1);
    }
}
