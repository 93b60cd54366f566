package dev.governor.runtime.internal;

import dev.governor.ServiceCtx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The door to a supervisor's loop: runs one {@link SupervisorLoop} per run of the supervisor,
 * hands it messages ({@link #post}) and operations ({@link #call}, waiting for them), and, while
 * no loop runs, has an operation done at once under the supervisor's lock
 * ({@link IdleOperations#whileIdle}). Whether a loop runs changes under that lock only.
 */
final class LoopHost {
    private final SupervisorImpl sup;
    private final ReentrantLock lock;
    private boolean running; // guarded by lock
    private volatile SupervisorLoop loop; // the current run's loop, or null
    private volatile Thread loopThread;
    final AtomicInteger liveRuns = new AtomicInteger(); // runs of children not yet returned
    volatile Thread allEndedWaiter; // a parallel stop waiting for liveRuns to reach 0

    LoopHost(SupervisorImpl sup) {
        this.sup = sup;
        this.lock = sup.lock;
    }

    void post(Msg m) {
        SupervisorLoop l = loop;
        if (l != null) {
            l.mailbox.add(m);
        }
    }

    /** {@link #post} without waking a waiting loop ({@link Mailbox#addQuietly}). */
    void postQuietly(Msg m) {
        SupervisorLoop l = loop;
        if (l != null) {
            l.mailbox.addQuietly(m);
        }
    }

    /** Wakes the loop if it waits while messages are queued (the sweep of late reports). */
    void wakeLoop() {
        SupervisorLoop l = loop;
        if (l != null) {
            l.mailbox.wake();
        }
    }

    /** Called by each run of a child as it ends (on the run's thread). */
    void runEnded() {
        if (liveRuns.decrementAndGet() == 0) {
            Thread w = allEndedWaiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }
    }

    long busySince() {
        SupervisorLoop l = loop;
        return l == null ? SupervisorLoop.IDLE : l.busySince();
    }

    /** Whether no loop runs or it is stopping its children: a run's own thread then restarts nothing (Handoff). */
    boolean loopStopping() {
        SupervisorLoop l = loop;
        return l == null || l.cancelled();
    }

    boolean loopRunning() {
        return loop != null;
    }

    /** One run of the supervisor: its loop, from the first start to the last stop; throws its escalation. */
    void run(ServiceCtx ctx, Tree t) {
        Run self = ctx instanceof Run r ? r : null;
        SupervisorLoop l = new SupervisorLoop(
                sup,
                t,
                self != null ? self::setReady : b -> {},
                self != null && self.child != null
                        ? a -> self.owner.post(new Msg.ActiveChanged(self.child, self, a))
                        : a -> {});
        List<Child> order;
        lock.lock();
        try {
            if (running) {
                throw new IllegalStateException("supervisor \"" + sup.name() + "\" is already running");
            }
            order = sup.planStartOrder();
            running = true;
            loop = l;
            loopThread = Thread.currentThread();
        } finally {
            lock.unlock();
        }
        t.runningLoops.add(sup);
        if (self != null) {
            self.onCancel(() -> post(new Msg.Cancel()));
        } else {
            Thread.ofVirtual().name(sup.name() + "/cancel-watch").start(() -> {
                try {
                    ctx.awaitStop();
                } catch (InterruptedException ignored) {
                    // the loop is gone
                }
                post(new Msg.Cancel());
            });
        }
        try {
            l.run(order);
        } finally {
            List<Msg> left = new ArrayList<>();
            lock.lock();
            try {
                running = false;
                loop = null;
                loopThread = null;
                l.mailbox.drainTo(left);
            } finally {
                lock.unlock();
            }
            t.runningLoops.remove(sup);
            for (Msg m : left) {
                if (m instanceof Msg.Op op) {
                    lock.lock();
                    try {
                        runIdle(op);
                    } finally {
                        lock.unlock();
                    }
                }
            }
        }
        if (l.escalation() != null) {
            throw l.escalation();
        }
    }

    /**
     * Has {@code op} done as the loop's work: posted to the running loop (waiting for it unless
     * {@code wait} is false), or, while no loop runs, done at once under the lock.
     */
    void call(Msg.Op op, boolean wait) {
        lock.lock();
        try {
            if (!running) {
                runIdle(op);
            } else if (Thread.currentThread() == loopThread) {
                loop.dispatch(op);
            } else {
                loop.mailbox.add(op);
            }
        } finally {
            lock.unlock();
        }
        if (!wait) {
            return;
        }
        try {
            op.done().get();
            Tree t = sup.treeOrNull();
            if (t != null) {
                t.bus.flush(); // the events of the work reach listeners before the caller goes on
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(
                    op.what() + " interrupted while waiting for supervisor \"" + sup.name() + "\"", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(op.what() + " failed", e.getCause());
        }
    }

    /** An operation while no loop runs: the caller holds the lock. */
    private void runIdle(Msg.Op op) {
        try {
            IdleOperations.whileIdle(sup, op);
            op.done().complete(null);
        } catch (Throwable t) {
            op.done().completeExceptionally(t);
        }
    }

    @Override
    public String toString() {
        SupervisorLoop l = loop;
        return "LoopHost[" + sup.name() + ", " + (l == null ? "no loop" : l) + ", liveRuns=" + liveRuns.get() + "]";
    }
}
