package dev.governor.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.Scheduler;
import dev.governor.runtime.GovernorRuntime;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.junit.jupiter.api.Test;

/**
 * The watchdog runs on the governor's injected clock and scheduler, not on a timer of its own: a
 * hand-driven scheduler decides exactly when each ping goes. (The test kit's VirtualClock lives in
 * governor-test, which depends on this module; this is the few lines of it needed here.)
 */
class WatchdogOnInjectedTimeTest {

    /** Time that moves only when told; due tasks run on the caller's thread. */
    static final class HandDrivenTime implements InstantSource, Scheduler {
        private record Task(Instant due, long seq, Runnable run) {}

        private final PriorityQueue<Task> queue =
                new PriorityQueue<>(Comparator.comparing(Task::due).thenComparingLong(Task::seq));
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");
        private long seq;

        @Override
        public synchronized Instant instant() {
            return now;
        }

        @Override
        public synchronized Cancellable schedule(Duration delay, Runnable task) {
            Task t = new Task(now.plus(delay), seq++, task);
            queue.add(t);
            return () -> {
                synchronized (this) {
                    return queue.remove(t);
                }
            };
        }

        void advance(Duration step) {
            Instant end;
            synchronized (this) {
                end = now.plus(step);
            }
            while (true) {
                Task next;
                synchronized (this) {
                    next = queue.peek();
                    if (next == null || next.due().isAfter(end)) {
                        now = end;
                        return;
                    }
                    queue.poll();
                    now = next.due();
                }
                next.run().run();
            }
        }
    }

    @Test
    void oneSecondOfInjectedTimeWithWatchdogUsec200000GivesTenPings() throws Exception {
        HandDrivenTime time = new HandDrivenTime();
        try (NotifyReceiver systemd = NotifyReceiver.bind(SdNotifyTest.abstractName("virtual"));
                Governor gov = Governor.create(
                        GovernorOptions.builder().clock(time).scheduler(time).build())) {
            new SystemdExtension(Map.of("WATCHDOG_USEC", "200000"), SdNotify.to(systemd.address()))
                    .install(GovernorRuntime.hooks(gov));
            gov.add("svc", ctx -> ctx.awaitStop());
            gov.start();
            systemd.await(m -> m.has("READY", "1"), Duration.ofSeconds(30));
            int before = pings(systemd);
            assertThat(before).as("no ping before injected time moves").isZero();

            time.advance(Duration.ofMillis(999));
            int after999 = awaitPings(systemd, 9);
            time.advance(Duration.ofMillis(1));
            int after1000 = awaitPings(systemd, 10);
            assertThat(after999).isEqualTo(9);
            assertThat(after1000).isEqualTo(10);
        }
    }

    @Test
    void aFailedServiceWithholdsEveryLaterPingAndAHealthyTreeMissesNone() throws Exception {
        HandDrivenTime time = new HandDrivenTime();
        java.util.concurrent.CountDownLatch fail = new java.util.concurrent.CountDownLatch(1);
        try (NotifyReceiver systemd = NotifyReceiver.bind(SdNotifyTest.abstractName("withheld"));
                Governor gov = Governor.create(
                        GovernorOptions.builder().clock(time).scheduler(time).build())) {
            SdNotify marker = SdNotify.to(systemd.address());
            new SystemdExtension(Map.of("WATCHDOG_USEC", "200000"), SdNotify.to(systemd.address()))
                    .install(GovernorRuntime.hooks(gov));
            gov.add("steady", ctx -> ctx.awaitStop());
            gov.add("doomed", ctx -> {
                        fail.await();
                        throw new IllegalStateException("doomed on purpose");
                    })
                    .noRestart();
            gov.start();
            systemd.await(m -> m.has("READY", "1"), Duration.ofSeconds(30));

            time.advance(Duration.ofSeconds(2));
            assertThat(awaitPings(systemd, 20))
                    .as("20 periods of 100 ms, one ping each")
                    .isEqualTo(20);

            fail.countDown();
            NotifyReceiver.Message failed =
                    systemd.await(m -> m.get("STATUS").orElse("").contains("1 failed"), Duration.ofSeconds(30));
            time.advance(Duration.ofSeconds(2));
            // advance() sends every due ping before it returns, and datagrams on one socket keep their
            // order: once the marker is read, every ping of those 2 s would have been read before it
            assertThat(marker.send("X_MARKER=after-failure")).isTrue();
            NotifyReceiver.Message mark =
                    systemd.await(m -> m.has("X_MARKER", "after-failure"), Duration.ofSeconds(30));
            List<NotifyReceiver.Message> all = systemd.messages();
            long pingsAfterFailure = all.subList(systemd.indexOf(failed) + 1, systemd.indexOf(mark)).stream()
                    .filter(m -> m.has("WATCHDOG", "1"))
                    .count();
            assertThat(pingsAfterFailure)
                    .as("pings in 2 s of injected time after a service failed")
                    .isZero();
            assertThat(gov.isReady())
                    .as("the tree still runs: only the watchdog tells systemd")
                    .isTrue();
        }
    }

    private static int pings(NotifyReceiver r) {
        return (int) r.messages().stream().filter(m -> m.has("WATCHDOG", "1")).count();
    }

    /** Pings are sent synchronously by advance(); the receiver reads them on its own thread. */
    private static int awaitPings(NotifyReceiver r, int expected) throws InterruptedException {
        int[] index = {-1};
        for (int i = 0; i < expected; i++) {
            NotifyReceiver.Message m = r.awaitAfter(index[0], x -> x.has("WATCHDOG", "1"), Duration.ofSeconds(30));
            index[0] = r.indexOf(m);
        }
        return pings(r);
    }
}
