package dev.governor.runtime.internal;

import dev.governor.GovernorEvent;
import dev.governor.GovernorListener;
import dev.governor.runtime.LifecycleListener;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers events and lifecycle calls to listeners, in publication order, one at a time, on a
 * virtual thread that exists only while there is something to deliver. Publishers never block
 * and never hold a lock while a listener runs.
 */
final class EventBus {
    private static final Logger LOG = LoggerFactory.getLogger("dev.governor");
    private static final ScopedValue<Boolean> DELIVERING = ScopedValue.newInstance();

    private final CopyOnWriteArrayList<GovernorListener> listeners = new CopyOnWriteArrayList<>();
    private final CopyOnWriteArrayList<LifecycleListener> lifecycle = new CopyOnWriteArrayList<>();
    private final ConcurrentLinkedQueue<Object> queue = new ConcurrentLinkedQueue<>();
    private final AtomicInteger wip = new AtomicInteger();
    private final Object flushLock = new Object();
    private long enqueued;   // guarded by flushLock
    private long delivered;  // guarded by flushLock

    void addListener(GovernorListener l) {
        listeners.add(l);
    }

    void addLifecycle(LifecycleListener l) {
        lifecycle.add(l);
    }

    boolean hasListeners() {
        return !listeners.isEmpty();
    }

    boolean hasLifecycleListeners() {
        return !lifecycle.isEmpty();
    }

    void publish(GovernorEvent event) {
        if (!listeners.isEmpty()) {
            enqueue(event);
        }
    }

    void lifecycle(Consumer<LifecycleListener> call) {
        if (!lifecycle.isEmpty()) {
            enqueue(call);
        }
    }

    /** Runs {@code task} on the delivery thread, in order with the events around it. */
    void inOrder(Runnable task) {
        enqueue(task);
    }

    private void enqueue(Object item) {
        synchronized (flushLock) {
            queue.add(item);
            enqueued++;
        }
        if (wip.getAndIncrement() == 0) {
            Thread.ofVirtual().name("governor-events").start(() -> ScopedValue.where(DELIVERING, true).run(this::drain));
        }
    }

    private void drain() {
        int missed = 1;
        while (true) {
            Object item;
            while ((item = queue.poll()) != null) {
                deliver(item);
                synchronized (flushLock) {
                    delivered++;
                    flushLock.notifyAll();
                }
            }
            missed = wip.addAndGet(-missed);
            if (missed == 0) {
                return;
            }
        }
    }

    @SuppressWarnings("unchecked")
    private void deliver(Object item) {
        switch (item) {
            case GovernorEvent e -> {
                for (GovernorListener l : listeners) {
                    try {
                        l.onEvent(e);
                    } catch (VirtualMachineError fatal) {
                        throw fatal;
                    } catch (Throwable t) {
                        LOG.error("listener {} threw on {}; it is kept", l, e, t);
                    }
                }
            }
            case Consumer<?> call -> {
                for (LifecycleListener l : lifecycle) {
                    try {
                        ((Consumer<LifecycleListener>) call).accept(l);
                    } catch (VirtualMachineError fatal) {
                        throw fatal;
                    } catch (Throwable t) {
                        LOG.error("lifecycle listener {} threw; it is kept", l, t);
                    }
                }
            }
            case Runnable task -> {
                try {
                    task.run();
                } catch (VirtualMachineError fatal) {
                    throw fatal;
                } catch (Throwable t) {
                    LOG.error("event task threw", t);
                }
            }
            default -> throw new IllegalStateException("unknown item " + item);
        }
    }

    boolean busy() {
        return wip.get() != 0;
    }

    /** True on the delivery thread (a listener calling back into the governor). */
    static boolean delivering() {
        return DELIVERING.isBound();
    }

    /** Waits until everything published before this call has been delivered (no-op on the delivery thread). */
    void flush() {
        if (delivering()) {
            return;
        }
        synchronized (flushLock) {
            long target = enqueued;
            boolean interrupted = false;
            while (delivered < target) {
                try {
                    flushLock.wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "EventBus[listeners=" + listeners.size() + ", lifecycle=" + lifecycle.size() + ", queued=" + queue.size() + "]";
    }
}
