package dev.governor.runtime.internal;

import dev.governor.Scheduler;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.locks.LockSupport;

/**
 * A moment on the governor's scheduler that wakes one waiting thread when it passes.
 *
 * <p>A {@linkplain #rolling rolling} deadline serves a sequence of waits by one thread (a
 * supervisor stopping its children one at a time), each until a moment of its own, with one timer
 * for as many of them as it can: a timer set for an earlier wait stays when it comes no later
 * than the next wait's moment, and when it fires before that moment it moves itself on to it. A
 * stop of 10,000 children in turn, each bounded by the same timeout, schedules one timer instead
 * of scheduling and cancelling 10,000.
 */
final class Deadline {
    static final Deadline NEVER = new Deadline(null, null);

    private final Thread waiter;
    private final Scheduler scheduler; // a rolling deadline's; null otherwise
    private volatile boolean passed;
    private Scheduler.Cancellable timer; // guarded by this once rolling
    private Object timerToken; // rolling: names the pending timer to its own callback; guarded by this
    private Instant timerAt; // rolling: the moment the pending timer stands for; guarded by this
    private Instant until; // rolling: the current wait's moment, null between waits or unbounded; guarded by this

    private Deadline(Thread waiter, Scheduler scheduler) {
        this.waiter = waiter;
        this.scheduler = scheduler;
    }

    /** A deadline {@code after} from now that unparks the calling thread; {@code null} means never. */
    static Deadline after(Scheduler scheduler, Duration after) {
        if (after == null) {
            return NEVER;
        }
        Deadline d = new Deadline(Thread.currentThread(), null);
        if (after.isNegative() || after.isZero()) {
            d.passed = true;
            return d;
        }
        d.timer = scheduler.schedule(after, () -> {
            d.passed = true;
            LockSupport.unpark(d.waiter);
        });
        return d;
    }

    /** A deadline for the calling thread's waits in turn, each begun with {@link #waitUntil}; {@link #cancel()} at the end. */
    static Deadline rolling(Scheduler scheduler) {
        return new Deadline(Thread.currentThread(), scheduler);
    }

    /**
     * Rolling: the next wait lasts until {@code moment} ({@code null}: unbounded). A timer is
     * scheduled (for the time left on {@code clock}) only when none is pending for this moment or
     * an earlier one.
     */
    synchronized void waitUntil(Instant moment, InstantSource clock) {
        until = moment;
        passed = false;
        if (moment == null || (timer != null && !timerAt.isAfter(moment))) {
            return; // unbounded, or the pending timer comes first and moves on to this moment when it fires
        }
        Instant now = clock.instant();
        if (!moment.isAfter(now)) {
            passed = true;
            return;
        }
        cancelTimer();
        schedule(Duration.between(now, moment), moment);
    }

    /**
     * Rolling: the wait in hand is over; the pending timer is kept only if it serves the next wait,
     * whose moment is no earlier than {@code nextAtLeast} ({@code null}: no bounded wait follows).
     * A timer left pending is one nobody waits for: with a virtual clock, a test that waits for the
     * next stop's timer would take it for that one.
     */
    synchronized void waitOver(Instant nextAtLeast) {
        until = null;
        if (timer != null && (nextAtLeast == null || timerAt.isAfter(nextAtLeast))) {
            cancelTimer();
        }
    }

    private void schedule(Duration delay, Instant at) {
        // the token exists before the timer does: a timer may run (a virtual clock advanced by another
        // thread) before schedule() returns, and must still know itself as the pending one
        Object token = new Object();
        timerToken = token;
        timerAt = at;
        timer = scheduler.schedule(delay, () -> fired(token, at));
    }

    /** The timer set for {@code at} ran (on the scheduler's thread, or a test's advancing a virtual clock). */
    private synchronized void fired(Object token, Instant at) {
        if (timerToken != token) {
            return; // cancelled and replaced meanwhile
        }
        timer = null;
        timerToken = null;
        timerAt = null;
        Instant u = until;
        if (u == null) {
            return;
        }
        if (!u.isAfter(at)) {
            passed = true;
            LockSupport.unpark(waiter);
        } else { // set for an earlier wait: on to this one's moment, no clock read (the timer itself stood for 'at')
            schedule(Duration.between(at, u), u);
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel();
            timer = null;
            timerToken = null;
            timerAt = null;
        }
    }

    boolean passed() {
        return passed;
    }

    void cancel() {
        if (scheduler != null) {
            synchronized (this) {
                until = null;
                cancelTimer();
            }
        } else if (timer != null) {
            timer.cancel();
        }
    }

    @Override
    public String toString() {
        return this == NEVER ? "Deadline[never]" : "Deadline[passed=" + passed + "]";
    }
}
