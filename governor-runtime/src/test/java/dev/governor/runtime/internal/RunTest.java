package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * What {@link Run} keeps out of its fields (the tree, the logger, the cancel callback, the stop
 * request) still behaves as before, and its own-thread wait (a leaf with the rare paths out of line)
 * still honours interrupts and waiters on other threads.
 */
class RunTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void theLoggerOfARunIsNamedAfterItsPathAtEveryDepthAndTheGovernorsAfterTheGovernor() throws Exception {
        Governor gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        Map<String, String> loggerNames = new ConcurrentHashMap<>();
        CountDownLatch logged = new CountDownLatch(2);
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE);
        pool.add("w1", ctx -> {
            loggerNames.put(ctx.name(), ctx.log().getName());
            ctx.log().info("running"); // twice: the logger is looked up again, same name
            loggerNames.put(ctx.name() + "#2", ctx.log().getName());
            logged.countDown();
            ctx.awaitStop();
        });
        gov.add("pool", pool);
        gov.add("top", ctx -> {
            loggerNames.put(ctx.name(), ctx.log().getName());
            logged.countDown();
            ctx.awaitStop();
        });
        try {
            gov.start();
            assertThat(logged.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(loggerNames)
                    .containsExactlyInAnyOrderEntriesOf(
                            Map.of("pool/w1", "pool/w1", "pool/w1#2", "pool/w1", "top", "top"));
            assertThat(gov.globalContext().log().getName()).isEqualTo("governor");
            assertThat(gov.globalContext().name()).isEmpty();
        } finally {
            gov.shutdown();
        }
    }

    @Test
    void aCancelWakesWaitersOnOtherThreadsAndRunsTheCallbackOnceAfterThem() throws Exception {
        Run r = new Run(null, null, "svc", 0);
        List<String> order = new CopyOnWriteArrayList<>();
        AtomicInteger callbacks = new AtomicInteger();
        CountDownLatch waiting = new CountDownLatch(2);
        List<Thread> waiters = List.of(waiter(r, order, waiting, "a"), waiter(r, order, waiting, "b"));
        assertThat(waiting.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        await().atMost(WAIT).until(() -> waiters.stream().allMatch(t -> t.getState() == Thread.State.WAITING));
        r.onCancel(() -> {
            callbacks.incrementAndGet();
            order.add("callback");
        });

        assertThat(r.cancel()).isTrue();
        assertThat(r.cancel()).as("a second cancel").isFalse();
        for (Thread t : waiters) {
            t.join(WAIT.toMillis());
            assertThat(t.isAlive()).isFalse();
        }
        assertThat(callbacks).hasValue(1);
        assertThat(order).contains("a", "b", "callback");
        assertThat(r.stopping()).isTrue();

        AtomicInteger late = new AtomicInteger();
        r.onCancel(late::incrementAndGet);
        assertThat(late).as("a callback given after the cancel runs at once").hasValue(1);
    }

    @Test
    void aCallbackAloneIsRunOnCancelAndAThreadIsNoCallback() {
        Run r = new Run(null, null, "svc", 0);
        AtomicInteger callbacks = new AtomicInteger();
        r.onCancel(callbacks::incrementAndGet);
        assertThat(callbacks).hasValue(0);
        assertThatThrownBy(() -> r.onCancel(Thread.ofVirtual().unstarted(() -> {})))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a cancel callback");
        r.cancel();
        assertThat(callbacks).hasValue(1);
    }

    @Test
    void theOwnThreadsWaitThrowsOnAnInterruptAndTheStoppersInterruptIsTakenBackOnceTheStopIsSeen() throws Exception {
        Run r = new Run(null, null, "pool/w7", 0);
        AtomicReference<Throwable> firstWait = new AtomicReference<>();
        AtomicReference<String> secondWait = new AtomicReference<>();
        CountDownLatch proceed = new CountDownLatch(1);
        Thread t = Thread.ofVirtual().unstarted(() -> {
            try {
                r.awaitStop();
                firstWait.set(new AssertionError("returned without a cancel"));
            } catch (InterruptedException e) {
                firstWait.set(e);
            }
            try {
                proceed.await(); // in the user's code as the stop comes: the stopper interrupts
                secondWait.set("not interrupted");
            } catch (InterruptedException e) {
                try {
                    r.awaitStop();
                    secondWait.set(Thread.currentThread().isInterrupted() ? "interrupted" : "returned");
                } catch (InterruptedException again) {
                    secondWait.set("threw " + again);
                }
            }
        });
        r.thread = t;
        t.start();
        await().atMost(WAIT).until(() -> t.getState() == Thread.State.WAITING);
        t.interrupt(); // not the stopper's: the wait throws, with the path
        await().atMost(WAIT).until(() -> firstWait.get() != null);
        assertThat(firstWait.get())
                .isInstanceOf(InterruptedException.class)
                .hasMessage("pool/w7: interrupted while awaiting stop");

        r.cancel(); // the stop, as a stopper makes it: cancel, claim, interrupt
        assertThat(r.claimInterrupt())
                .as("after the interrupted wait the thread is in the user's code")
                .isTrue();
        t.interrupt();
        r.interruptDelivered();
        t.join(WAIT.toMillis());
        assertThat(t.isAlive()).isFalse();
        assertThat(secondWait.get()).isEqualTo("returned");
    }

    @Test
    void theOwnThreadWaitingOnItsCtxIsNotToBeInterruptedByItsStopper() throws Exception {
        Run r = new Run(null, null, "svc", 0);
        Thread t = Thread.ofVirtual().unstarted(() -> {
            try {
                r.awaitStop();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        r.thread = t;
        t.start();
        await().atMost(WAIT).until(() -> t.getState() == Thread.State.WAITING);
        r.cancel();
        assertThat(r.claimInterrupt())
                .as("parked in awaitStop: cancel wakes it")
                .isFalse();
        t.join(WAIT.toMillis());
        assertThat(t.isAlive()).isFalse();
        assertThat(r.claimInterrupt())
                .as("returned on the stop: its cleanup is not interrupted")
                .isFalse();
    }

    @Test
    void aStopRequestIsItsInstant() {
        Run r = new Run(null, null, "svc", 0);
        assertThat(r.stopRequested()).isFalse();
        r.stopRequestedAt = java.time.Instant.EPOCH;
        assertThat(r.stopRequested()).isTrue();
    }

    private static Thread waiter(Run r, List<String> order, CountDownLatch waiting, String name) {
        return Thread.ofVirtual().start(() -> {
            waiting.countDown();
            try {
                r.awaitStop();
                order.add(name);
            } catch (InterruptedException e) {
                order.add(name + " interrupted");
            }
        });
    }
}
