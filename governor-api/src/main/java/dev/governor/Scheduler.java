package dev.governor;

import java.time.Duration;

/**
 * Runs short tasks after a delay: every restart delay, {@code ctx.sleep}, timeout and periodic
 * job of a governor goes through the one given in {@link GovernorOptions}, so a test can replace
 * time itself (the test kit's {@code VirtualClock}).
 *
 * <p>Tasks must be short and must not block: they only wake or enqueue.
 */
@FunctionalInterface
public interface Scheduler {

    /** A scheduled task that may still be cancelled. */
    @FunctionalInterface
    interface Cancellable {
        /** Cancels the task if it has not run; returns false if it already ran or was cancelled. */
        boolean cancel();
    }

    /**
     * Runs {@code task} once after {@code delay}. A delay too long to represent (centuries) means
     * never: implementations saturate it rather than overflow.
     *
     * @throws IllegalArgumentException if {@code delay} is null or negative
     */
    Cancellable schedule(Duration delay, Runnable task);

    /**
     * The real-time scheduler: one daemon platform thread shared by every governor of the JVM,
     * which never keeps the JVM alive.
     */
    static Scheduler system() {
        return SystemScheduler.INSTANCE;
    }
}
