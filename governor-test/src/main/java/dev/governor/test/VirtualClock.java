package dev.governor.test;

import dev.governor.GovernorOptions;
import dev.governor.Scheduler;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Time that moves only when the test says so. It is both the {@link InstantSource} and the
 * {@link Scheduler} of a governor built with {@link #options()}, so every restart delay, backoff,
 * {@code ctx.sleep}, stop timeout, {@code resetAfter}, limit window and timestamp reads it.
 *
 * <p>{@link #advance(Duration)} runs every task that falls due within the step, in time order
 * (ties in scheduling order), on the calling thread, with {@link #instant()} set to each task's due
 * time while it runs; then the clock rests at the end of the step. What a task sets off (the
 * supervisor starting a run, a service waking from sleep) happens on governor threads after the
 * task: wait for it with {@link EventRecorder}'s awaits before advancing again.
 *
 * <pre>{@code
 * VirtualClock clock = new VirtualClock();
 * Governor gov = Governor.create(clock.options());
 * ...
 * clock.advance(Duration.ofMillis(100));   // the first restart delay passes
 * recorder.awaitEvent(GovernorEvent.Started.class, "worker", 1);
 * }</pre>
 */
public final class VirtualClock implements InstantSource, Scheduler {
    private final PriorityQueue<Task> tasks = new PriorityQueue<>();
    private Instant now;
    private long sequence;

    /** A clock at 2000-01-01T00:00:00Z. */
    public VirtualClock() {
        this(Instant.parse("2000-01-01T00:00:00Z"));
    }

    public VirtualClock(Instant start) {
        if (start == null) {
            throw new IllegalArgumentException("start must not be null");
        }
        this.now = start;
    }

    /** Options whose clock and scheduler are this virtual clock; other options at their defaults. */
    public GovernorOptions options() {
        return optionsBuilder().build();
    }

    /** A builder preset with this clock and scheduler, for changing other options. */
    public GovernorOptions.Builder optionsBuilder() {
        return GovernorOptions.builder().clock(this).scheduler(this).systemd(false);
    }

    @Override
    public synchronized Instant instant() {
        return now;
    }

    @Override
    public Cancellable schedule(Duration delay, Runnable task) {
        if (delay == null || delay.isNegative()) {
            throw new IllegalArgumentException("delay must not be null or negative, was " + delay);
        }
        if (task == null) {
            throw new IllegalArgumentException("task must not be null");
        }
        Task t;
        synchronized (this) {
            Instant due;
            try {
                due = now.plus(delay);
            } catch (java.time.DateTimeException | ArithmeticException never) {
                due = Instant.MAX; // past the end of time: never runs
            }
            t = new Task(due, sequence++, task);
            tasks.add(t);
            notifyAll();
        }
        return () -> {
            synchronized (VirtualClock.this) {
                return tasks.remove(t);
            }
        };
    }

    /**
     * Moves time forward by {@code step}, running every task that falls due on the way, in time order.
     *
     * @throws IllegalArgumentException if {@code step} is null or negative
     */
    public void advance(Duration step) {
        if (step == null || step.isNegative()) {
            throw new IllegalArgumentException("step must not be null or negative, was " + step);
        }
        Instant target;
        synchronized (this) {
            target = now.plus(step);
        }
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.peek();
                if (next == null || next.due.isAfter(target)) {
                    now = target;
                    return;
                }
                tasks.poll();
                if (next.due.isAfter(now)) {
                    now = next.due;
                }
            }
            next.task.run();
        }
    }

    /** Moves time to the next scheduled task and runs it (and any due at the same instant); false if none. */
    public boolean advanceToNext() {
        Instant due;
        synchronized (this) {
            Task next = tasks.peek();
            if (next == null) {
                return false;
            }
            due = next.due;
        }
        advance(Duration.between(instant(), due).isNegative() ? Duration.ZERO : Duration.between(instant(), due));
        return true;
    }

    /** The delays, from now, of the tasks waiting to run, in order. */
    public synchronized List<Duration> pending() {
        List<Duration> out = new ArrayList<>();
        tasks.stream().sorted().forEach(t -> out.add(Duration.between(now, t.due)));
        return out;
    }

    /**
     * Waits (in real time, up to {@code timeout}) until at least {@code count} tasks are waiting:
     * for a test that must know a sleep or a delay has been scheduled before it advances.
     */
    public synchronized void awaitPending(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (tasks.size() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("expected " + count + " scheduled task(s) within " + timeout + ", have "
                        + tasks.size() + ": " + pending());
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    @Override
    public synchronized String toString() {
        return "VirtualClock[" + now + ", pending=" + tasks.size() + "]";
    }

    private record Task(Instant due, long seq, Runnable task) implements Comparable<Task> {
        @Override
        public int compareTo(Task o) {
            int c = due.compareTo(o.due);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }
}
