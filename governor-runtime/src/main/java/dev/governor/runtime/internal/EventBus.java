package dev.governor.runtime.internal;

import dev.governor.GovernorEvent;
import dev.governor.GovernorListener;
import dev.governor.runtime.LifecycleListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers events and lifecycle calls to listeners, in publication order per listener, one at a
 * time, each on a virtual thread that exists only while there is something to deliver. Every
 * {@link GovernorListener} has a lane of its own, and the lifecycle listeners (systemd, metrics,
 * logging) share one: a listener that blocks delays only itself. Publishers never block and never
 * hold a lock while a listener runs; {@link #flush} waits, but never longer than it is told.
 */
final class EventBus {
    private static final Logger LOG = LoggerFactory.getLogger("dev.governor");
    private static final ScopedValue<Boolean> DELIVERING = ScopedValue.newInstance();
    /** How long a caller of stopChild/restartChild waits for listeners to hear of its work. */
    static final Duration FLUSH_BOUND = Duration.ofSeconds(2);
    /** Events held for one listener that does not keep up; later ones are dropped for it (and counted). */
    static final int MAX_BACKLOG = 100_000;

    private final CopyOnWriteArrayList<Lane> lanes = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<LifecycleListener> lifecycle = new CopyOnWriteArrayList<>();
    private final Lane internal = new Lane(null);

    void addListener(GovernorListener l) {
        lanes.add(new Lane(l));
    }

    void addLifecycle(LifecycleListener l) {
        lifecycle.add(l);
    }

    boolean hasListeners() {
        return !lanes.isEmpty();
    }

    boolean hasLifecycleListeners() {
        return !lifecycle.isEmpty();
    }

    void publish(GovernorEvent event) {
        for (Lane lane : lanes) {
            lane.enqueue(event);
        }
    }

    void lifecycle(Consumer<LifecycleListener> call) {
        if (!lifecycle.isEmpty()) {
            internal.enqueue(call);
        }
    }

    /** Runs {@code task} on the lifecycle lane, in order with the lifecycle calls around it. */
    void inOrder(Runnable task) {
        internal.enqueue(task);
    }

    boolean busy() {
        if (internal.wip.get() != 0) {
            return true;
        }
        for (Lane lane : lanes) {
            if (lane.wip.get() != 0) {
                return true;
            }
        }
        return false;
    }

    /** True on a delivery thread (a listener calling back into the governor). */
    static boolean delivering() {
        return DELIVERING.isBound();
    }

    /** {@link #flush(Duration)} with {@link #FLUSH_BOUND}. */
    boolean flush() {
        return flush(FLUSH_BOUND);
    }

    /**
     * Waits until everything published before this call has been delivered, at most {@code max}
     * in all; true if it was. A no-op on a delivery thread. Listeners still busy when the time is
     * up are named in a warning and keep their events.
     */
    boolean flush(Duration max) {
        List<Lane> all = new ArrayList<>(lanes.size() + 1);
        all.add(internal);
        all.addAll(lanes);
        return await(all, max);
    }

    /** Like {@link #flush(Duration)}, for the lifecycle listeners only (systemd, /readyz). */
    boolean flushLifecycle(Duration max) {
        return await(List.of(internal), max);
    }

    private boolean await(List<Lane> all, Duration max) {
        if (delivering()) {
            return true;
        }
        long[] targets = new long[all.size()];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = all.get(i).enqueued();
        }
        long deadline = System.nanoTime() + saturatedNanos(max);
        List<String> late = null;
        for (int i = 0; i < targets.length; i++) {
            if (!all.get(i).awaitDelivered(targets[i], deadline)) {
                if (late == null) {
                    late = new ArrayList<>();
                }
                late.add(all.get(i).describe());
            }
        }
        if (late != null) {
            LOG.warn("listeners still busy after {} ms, going on without waiting for them: {}", max.toMillis(), late);
            return false;
        }
        return true;
    }

    private static long saturatedNanos(Duration d) {
        return d.compareTo(Duration.ofDays(365)) > 0 ? TimeUnit.DAYS.toNanos(365) : Math.max(0, d.toNanos());
    }

    @Override
    public String toString() {
        return "EventBus[listeners=" + lanes.size() + ", lifecycle=" + lifecycle.size() + ", busy=" + busy() + "]";
    }

    /** One listener's queue and its delivery thread (the lifecycle lane when {@code listener} is null). */
    private final class Lane {
        private final GovernorListener listener;
        private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
        final AtomicInteger wip = new AtomicInteger();
        private long enqueued; // guarded by this
        private long delivered; // guarded by this
        private long dropped; // guarded by this

        Lane(GovernorListener listener) {
            this.listener = listener;
        }

        void enqueue(Object item) {
            synchronized (this) {
                if (listener != null && enqueued - delivered >= MAX_BACKLOG) {
                    if (dropped++ == 0) {
                        LOG.warn(
                                "listener {} is {} events behind: further events are dropped for it until it catches up",
                                Untrusted.toString(listener),
                                MAX_BACKLOG);
                    }
                    return;
                }
                queue.add(item);
                enqueued++;
            }
            if (wip.getAndIncrement() == 0) {
                Thread.ofVirtual()
                        .name("governor-events")
                        .start(() -> ScopedValue.where(DELIVERING, true).run(this::drain));
            }
        }

        synchronized long enqueued() {
            return enqueued;
        }

        private void drain() {
            int missed = 1;
            while (true) {
                Object item;
                while ((item = queue.poll()) != null) {
                    try {
                        deliver(item);
                    } finally {
                        synchronized (this) {
                            delivered++;
                            notifyAll();
                        }
                    }
                }
                missed = wip.addAndGet(-missed);
                if (missed == 0) {
                    return;
                }
            }
        }

        /**
         * Never throws: whatever a listener throws, an error included, is logged and the listener kept.
         * An {@code instanceof} chain, not a pattern switch: the switch's bootstrap spins a class on
         * the first delivery, which is on the way to {@code READY=1}.
         */
        @SuppressWarnings("unchecked")
        private void deliver(Object item) {
            if (item instanceof GovernorEvent e) {
                try {
                    listener.onEvent(e);
                } catch (Throwable t) {
                    report(
                            t,
                            "listener " + Untrusted.toString(listener) + " threw on "
                                    + e.getClass().getSimpleName() + " of \"" + e.service() + "\"; it is kept");
                }
            } else if (item instanceof Consumer<?> call) {
                for (LifecycleListener l : lifecycle) {
                    try {
                        ((Consumer<LifecycleListener>) call).accept(l);
                    } catch (Throwable t) {
                        report(t, "lifecycle listener " + Untrusted.toString(l) + " threw; it is kept");
                    }
                }
            } else if (item instanceof Runnable task) {
                try {
                    task.run();
                } catch (Throwable t) {
                    report(t, "event task threw");
                }
            } else {
                report(new IllegalStateException("unknown item " + item.getClass()), "event bus");
            }
        }

        private void report(Throwable t, String what) {
            try {
                LOG.error(what, Untrusted.loggable(t));
            } catch (Throwable logging) {
                // out of memory or a broken logger: the delivery thread must live on regardless
            }
        }

        /** Waits until {@code target} items were delivered or System.nanoTime() passed {@code deadline}. */
        synchronized boolean awaitDelivered(long target, long deadline) {
            boolean interrupted = false;
            try {
                while (delivered < target) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    try {
                        TimeUnit.NANOSECONDS.timedWait(this, left);
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                return true;
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        String describe() {
            return listener == null
                    ? "lifecycle listeners " + Untrusted.toString(lifecycle)
                    : Untrusted.toString(listener);
        }
    }
}
