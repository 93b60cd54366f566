package dev.governor;

import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

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

    /** Holder of the shared real-time scheduler. */
    final class SystemScheduler implements Scheduler {
        static final SystemScheduler INSTANCE = new SystemScheduler();
        private final ScheduledThreadPoolExecutor executor;

        private SystemScheduler() {
            executor = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "governor-timer");
                t.setDaemon(true);
                return t;
            });
            executor.setRemoveOnCancelPolicy(true);
        }

        @Override
        public Cancellable schedule(Duration delay, Runnable task) {
            Checks.notNegative(delay, "delay");
            // past Long.MAX_VALUE ns (292 years) the delay means "never": saturate rather than overflow
            long nanos = delay.compareTo(Duration.ofNanos(Long.MAX_VALUE)) >= 0 ? Long.MAX_VALUE : delay.toNanos();
            var future = executor.schedule(task, nanos, TimeUnit.NANOSECONDS);
            return () -> future.cancel(false);
        }

        @Override
        public String toString() {
            return "Scheduler.system()[queued=" + executor.getQueue().size() + "]";
        }
    }
}
