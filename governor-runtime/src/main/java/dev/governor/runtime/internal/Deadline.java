package dev.governor.runtime.internal;

import dev.governor.Scheduler;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/** A moment on the governor's scheduler that wakes one waiting thread when it passes. */
final class Deadline {
    static final Deadline NEVER = new Deadline(null);

    private final Thread waiter;
    private volatile boolean passed;
    private Scheduler.Cancellable timer;

    private Deadline(Thread waiter) {
        this.waiter = waiter;
    }

    /** A deadline {@code after} from now that unparks the calling thread; {@code null} means never. */
    static Deadline after(Scheduler scheduler, Duration after) {
        if (after == null) {
            return NEVER;
        }
        Deadline d = new Deadline(Thread.currentThread());
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

    boolean passed() {
        return passed;
    }

    void cancel() {
        if (timer != null) {
            timer.cancel();
        }
    }

    @Override
    public String toString() {
        return this == NEVER ? "Deadline[never]" : "Deadline[passed=" + passed + "]";
    }
}
