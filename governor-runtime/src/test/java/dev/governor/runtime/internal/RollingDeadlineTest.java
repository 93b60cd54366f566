package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Scheduler;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rolling deadline of a stop in turn (one timer for many waits) and the stop-time records the
 * shutdown report is built from, on a hand-driven scheduler: every timer is seen, run or cancelled
 * by the test.
 */
class RollingDeadlineTest {
    private static final Instant T0 = Instant.parse("2000-01-01T00:00:00Z");

    /** Timers the test runs by hand; the clock is where the test puts it. */
    static final class HandScheduler implements Scheduler, InstantSource {
        final List<Timer> timers = new ArrayList<>();
        Instant now = T0;

        record Timer(Duration delay, Runnable task, boolean[] cancelled) {}

        @Override
        public synchronized Cancellable schedule(Duration delay, Runnable task) {
            Timer t = new Timer(delay, task, new boolean[1]);
            timers.add(t);
            return () -> {
                boolean was = !t.cancelled[0];
                t.cancelled[0] = true;
                return was;
            };
        }

        @Override
        public Instant instant() {
            return now;
        }

        List<Timer> live() {
            return timers.stream().filter(t -> !t.cancelled[0]).toList();
        }

        /** Runs the one live timer, the clock moved to its due time from {@code setAt}. */
        void fire(Instant setAt) {
            List<Timer> live = live();
            assertThat(live).hasSize(1);
            Timer t = live.getFirst();
            t.cancelled[0] = true; // ran: no longer pending
            now = setAt.plus(t.delay());
            t.task().run();
        }
    }

    @Test
    void shouldServeWaitsWithTheSameTimeoutWithOneTimer() {
        HandScheduler s = new HandScheduler();
        Deadline d = Deadline.rolling(s);
        for (int i = 0; i < 1_000; i++) { // a thousand children stopped in turn at the same instant, 5 s each
            d.waitUntil(T0.plusSeconds(5), s);
            assertThat(d.passed()).isFalse();
            d.waitOver(T0.plusSeconds(5));
        }
        assertThat(s.timers).as("one timer for all the waits").hasSize(1);
        assertThat(s.timers.getFirst().delay()).isEqualTo(Duration.ofSeconds(5));
        d.cancel();
        assertThat(s.live()).isEmpty();
    }

    @Test
    void shouldMoveAnEarlierTimerOnToTheWaitInHandWithoutReadingTheClock() {
        HandScheduler s = new HandScheduler();
        Deadline d = Deadline.rolling(s);
        d.waitUntil(T0.plusSeconds(5), s); // the first child: until 5 s
        d.waitOver(T0.plusSeconds(7)); // the next one's moment is no earlier than 7 s: the timer stays
        s.now = T0.plusSeconds(2);
        d.waitUntil(T0.plusSeconds(7), s); // requested at 2 s, 5 s of its own
        assertThat(s.timers).hasSize(1);
        s.fire(T0); // the clock at 5 s: not this wait's moment yet
        assertThat(d.passed()).isFalse();
        assertThat(s.live())
                .singleElement()
                .extracting(HandScheduler.Timer::delay)
                .isEqualTo(Duration.ofSeconds(2));
        s.fire(T0.plusSeconds(5));
        assertThat(s.now).isEqualTo(T0.plusSeconds(7));
        assertThat(d.passed()).isTrue();
    }

    @Test
    void shouldGiveAShorterOwnTimeoutATimerOfItsOwn() {
        HandScheduler s = new HandScheduler();
        Deadline d = Deadline.rolling(s);
        d.waitUntil(T0.plusSeconds(5), s);
        d.waitOver(T0.plusSeconds(2)); // the next child's own timeout is 2 s: the 5 s timer would come late
        assertThat(s.live()).as("no timer left that nobody waits for").isEmpty();
        d.waitUntil(T0.plusSeconds(2), s);
        assertThat(s.live())
                .singleElement()
                .extracting(HandScheduler.Timer::delay)
                .isEqualTo(Duration.ofSeconds(2));
        s.fire(T0);
        assertThat(d.passed()).isTrue();
        d.waitOver(null); // the last child: nothing follows
        assertThat(s.live()).isEmpty();
    }

    @Test
    void shouldPassAtOnceAMomentAlreadyReachedAndNeverPassAnUnboundedWait() {
        HandScheduler s = new HandScheduler();
        Deadline d = Deadline.rolling(s);
        s.now = T0.plusSeconds(3);
        d.waitUntil(T0.plusSeconds(3), s); // the shutdown's deadline has come
        assertThat(d.passed()).isTrue();
        d.waitOver(null);
        d.waitUntil(null, s);
        assertThat(d.passed()).as("reset for the next wait").isFalse();
        assertThat(s.timers).isEmpty();
    }

    @Test
    void shouldDropATimerThatFiresBetweenWaits() {
        HandScheduler s = new HandScheduler();
        Deadline d = Deadline.rolling(s);
        d.waitUntil(T0.plusSeconds(5), s);
        d.waitOver(T0.plusSeconds(5));
        s.fire(T0); // nobody waits at 5 s: nothing passes, nothing is rescheduled
        assertThat(s.live()).isEmpty();
        d.waitUntil(T0.plusSeconds(5), s); // the clock is at 5 s: this wait's moment has come
        assertThat(d.passed()).isTrue();
    }

    @Test
    void shouldKeepTheStopOrderAndCopyAsPutInStopOrderWould() {
        StopTimes times = new StopTimes();
        Duration shared = Duration.ofMillis(3);
        times.add("web", Duration.ofMillis(1));
        String[] pool = new String[40];
        Duration[] took = new Duration[40];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = "pool/w" + (pool.length - 1 - i);
            took[i] = shared;
        }
        times.addAll(pool, took, pool.length);
        times.add("web", Duration.ofMillis(9)); // stopped twice in one shutdown
        times.add("db", Duration.ofMillis(2));
        Map<String, Duration> expected = new LinkedHashMap<>();
        expected.put("web", Duration.ofMillis(1));
        for (String p : pool) {
            expected.put(p, shared);
        }
        expected.put("web", Duration.ofMillis(9));
        expected.put("db", Duration.ofMillis(2));
        LinkedHashMap<String, Duration> copy = new LinkedHashMap<>(times.inOrder());
        assertThat(copy).containsExactlyEntriesOf(expected);
        assertThat(copy.keySet().iterator().next()).isEqualTo("web");
    }

    /**
     * A timer that runs before its schedule() call has returned (a virtual clock advanced by another
     * thread at that moment, as a test does once it sees the timer pending) still ends the wait: the
     * stop of a child bounded by the shutdown's timeout waited forever when the timer took itself
     * for a replaced one.
     */
    @Test
    void shouldPassWhenTheTimerRunsBeforeItsScheduleReturns() throws Exception {
        Thread[] runner = new Thread[1];
        Scheduler racing = (delay, task) -> {
            runner[0] = Thread.ofPlatform().start(task);
            // return only once the timer's thread is at the deadline's lock, the wait's moment still unset
            while (runner[0].getState() != Thread.State.BLOCKED && runner[0].isAlive()) {
                Thread.onSpinWait();
            }
            return () -> true;
        };
        Deadline d = Deadline.rolling(racing);
        d.waitUntil(T0.plusSeconds(3), InstantSource.fixed(T0));
        runner[0].join(Duration.ofSeconds(30));
        assertThat(runner[0].isAlive()).isFalse();
        assertThat(d.passed()).as("the wait is over at its moment").isTrue();
    }
}
