package dev.governor.runtime.internal;

import dev.governor.Scheduler;
import dev.governor.ServiceCtx;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a service: its context (cancellation token, readiness, logger) and its outcome. A
 * fresh Run is made for every run; the root supervisor's loop also runs under one ({@code child}
 * null, {@code owner} the root supervisor).
 *
 * <p>A pool of a million parked services keeps a million of these: the fields are kept to 64 bytes
 * (12 of header, ten references, two ints, four booleans). What can be found elsewhere is not
 * kept: the tree is the owner's, the logger is looked up (the logger factory caches it), the
 * cancel callback of a supervisor's run is one of the waiters, and a requested stop is its instant.
 */
final class Run implements ServiceCtx, Runnable {
    final Child child;
    /** The supervisor whose loop started the run (the root supervisor for the root's own runs). */
    final SupervisorImpl owner;

    private final String path;
    private final int attempt;

    private volatile boolean cancelled;
    /**
     * Guarded by this: null, a Thread to unpark on cancel, the callback of {@link #onCancel} (a
     * Runnable that is not a Thread), or a List of both. The run's own thread is never in it.
     */
    private Object waiters;
    /**
     * The handshake between the run's own thread and its stopper, which interrupts the thread only
     * when it is not waiting on its ctx: one CAS-guarded state, so that the two always agree.
     * NONE: in the user's code; PARKED: in awaitStop/sleep (cancel wakes it); DONE: it saw the
     * cancellation in a ctx wait, never to be interrupted for it; INTERRUPTING/INTERRUPTED: the
     * stopper claimed the interrupt (and delivered it).
     */
    private volatile int ownState;

    private static final int NONE = 0;
    private static final int PARKED = 1;
    private static final int DONE = 2;
    private static final int INTERRUPTING = 3;
    private static final int INTERRUPTED = 4;
    private static final java.lang.invoke.VarHandle OWN_STATE;
    private static final java.lang.invoke.VarHandle HANDOFF;

    static {
        try {
            var lookup = java.lang.invoke.MethodHandles.lookup();
            OWN_STATE = lookup.findVarHandle(Run.class, "ownState", int.class);
            HANDOFF = lookup.findVarHandle(Run.class, "handoff", Object.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private boolean readyMarked; // guarded by this

    volatile Thread thread;
    /**
     * The successor slot, also the exit waiter: null (a failure goes to the loop), a {@link
     * Handoff.Open} mark (the loop allowed a zero-delay restart of a failure on this run's own
     * thread), {@link Handoff#CLOSED} (a stop closed it), the successor {@code Run} the ending
     * thread started (it won the slot), or the loop's thread waiting in {@link #awaitExit} (only
     * once closed). One CAS decides between the ending thread and the loop's stop: see {@link
     * Handoff#restartOnEnd} and {@link #closeHandoff}.
     */
    private volatile Object handoff;

    private volatile boolean exited;
    Throwable failure; // written before exited is set
    Instant startedAt;
    Instant endedAt;
    // written by the owning loop; read by the run's thread as it ends
    /** When the loop requested the stop; null while it did not (see {@link #stopRequested()}). */
    volatile Instant stopRequestedAt;

    volatile boolean unstopped;

    Run(SupervisorImpl owner, Child child, String path, int attempt) {
        this.child = child;
        this.owner = owner;
        this.path = path;
        this.attempt = attempt;
    }

    /** The tree the run belongs to: its owner's (cached there once attached, never cleared). */
    Tree tree() {
        return owner.treeOrNull();
    }

    /** Whether the loop requested the stop of this run ({@link #stopRequestedAt} set). */
    boolean stopRequested() {
        return stopRequestedAt != null;
    }

    @Override
    public String name() {
        return path;
    }

    @Override
    public int attempt() {
        return attempt;
    }

    @Override
    public boolean stopping() {
        return cancelled;
    }

    /** Cancels the run; returns false if it already was. Wakes every sleeper and waiter. */
    boolean cancel() {
        Object toWake;
        synchronized (this) {
            if (cancelled) {
                return false;
            }
            cancelled = true;
            toWake = waiters;
            waiters = null;
        }
        if (ownState == PARKED) { // read after 'cancelled' was written: see addWaiter
            LockSupport.unpark(thread);
        }
        if (toWake != null) {
            wake(toWake);
        }
        return true;
    }

    /** Unparks the waiting threads, then runs the callbacks (out of cancel(): most runs have none). */
    private static void wake(Object toWake) {
        List<?> all = toWake instanceof List<?> list ? list : List.of(toWake);
        for (Object w : all) {
            if (w instanceof Thread t) {
                LockSupport.unpark(t);
            }
        }
        for (Object w : all) {
            if (!(w instanceof Thread)) {
                ((Runnable) w).run();
            }
        }
    }

    /** Runs {@code callback} once when the run is cancelled (at once if it already is). */
    void onCancel(Runnable callback) {
        if (callback instanceof Thread) {
            throw new IllegalArgumentException("a Thread is not a cancel callback: " + callback);
        }
        synchronized (this) {
            if (!cancelled) {
                addToWaiters(callback);
                return;
            }
        }
        callback.run();
    }

    @Override
    public boolean sleep(Duration duration) {
        Checks.notNegative(duration, "sleep duration");
        if (cancelled) {
            if (isCurrentThread()) {
                ownStopSeen();
            }
            return true;
        }
        if (duration.isZero()) {
            return false;
        }
        Thread me = Thread.currentThread();
        Wake wake = new Wake(me);
        addWaiter(me);
        Scheduler.Cancellable timer = tree().scheduler.schedule(duration, wake);
        boolean interrupted = false;
        try {
            while (!cancelled && !wake.fired) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    interrupted = true;
                }
            }
        } finally {
            timer.cancel();
            removeWaiter(me);
            if (interrupted) {
                me.interrupt();
            }
        }
        return cancelled;
    }

    /**
     * Kept a small leaf for the run's own thread, the hot case: a million parked services each keep
     * this frame (inlined into {@link #run()} once compiled) on the heap, so nothing but the run
     * itself is live across the park; another thread's wait and the interrupt are out of line.
     */
    @Override
    public void awaitStop() throws InterruptedException {
        if (thread != Thread.currentThread()) {
            awaitStopElsewhere();
            return;
        }
        OWN_STATE.compareAndSet(this, NONE, PARKED); // else DONE or claimed: cancelled is set, no park follows
        while (!cancelled) {
            LockSupport.park();
            if (!cancelled && Thread.interrupted()) {
                ownWaitInterrupted();
            }
        }
        ownStopSeen(); // returns on the stop: what follows is cleanup, not to be interrupted
    }

    /** The own thread's wait was interrupted (not by its stopper, which never interrupts a waiter). */
    private void ownWaitInterrupted() throws InterruptedException {
        if (cancelled) {
            ownStopSeen();
        } else {
            OWN_STATE.compareAndSet(this, PARKED, NONE);
        }
        throw new InterruptedException(path + ": interrupted while awaiting stop");
    }

    /** {@link #awaitStop()} on a thread that is not the run's own. */
    private void awaitStopElsewhere() throws InterruptedException {
        if (cancelled) {
            return;
        }
        Thread me = Thread.currentThread();
        addWaiter(me);
        try {
            while (!cancelled) {
                LockSupport.park(this);
                if (!cancelled && Thread.interrupted()) {
                    throw new InterruptedException(path + ": interrupted while awaiting stop");
                }
            }
        } finally {
            removeWaiter(me);
        }
    }

    @Override
    public void markReady() {
        setReady(true);
    }

    /** Reports readiness to the owning supervisor (a nested supervisor's readiness may also drop). */
    void setReady(boolean ready) {
        if (child == null) {
            tree().rootReady(ready);
            return;
        }
        synchronized (this) {
            if (ready == readyMarked || cancelled) {
                return;
            }
            readyMarked = ready;
        }
        owner.post(new Msg.ReadyChanged(child, this, ready));
    }

    /** The logger named after the run's path ("governor" for the root's runs), looked up on each call. */
    @Override
    public Logger log() {
        return LoggerFactory.getLogger(path.isEmpty() ? "governor" : path);
    }

    /**
     * The body of the run's thread: the child's service, then the report of its end. Kept flat
     * (no wrapper frames, no captured lambdas): its frames are what a parked service keeps on
     * the heap, a million times over in a large pool.
     */
    @Override
    public void run() {
        tree().liveRuns.increment();
        try {
            child.service.run(this);
        } catch (Throwable t) {
            failure = t;
        } finally {
            ended();
        }
    }

    /**
     * Called by the stopper after {@link #cancel()}: true if it is to interrupt the run's thread
     * (then it must call {@link #interruptDelivered()}), false when the thread waits on its ctx or
     * already returned from that wait on the cancellation (cancel woke it; what follows is its
     * cleanup, which is never interrupted).
     */
    boolean claimInterrupt() {
        return OWN_STATE.compareAndSet(this, NONE, INTERRUPTING);
    }

    /**
     * A drain ran out: the stop escalates to the interrupt the drain stood in for, also when the
     * thread had seen the stop in a ctx wait and is in the cleanup after it (DONE): that cleanup is
     * what overran the drain.
     */
    boolean claimInterruptAfterDrain() {
        return OWN_STATE.compareAndSet(this, NONE, INTERRUPTING) || OWN_STATE.compareAndSet(this, DONE, INTERRUPTING);
    }

    /** The stopper's interrupt (claimed with {@link #claimInterrupt()}) was delivered, or will not be. */
    void interruptDelivered() {
        ownState = INTERRUPTED;
    }

    /**
     * The own thread saw the cancellation in a ctx wait. If the stopper claimed the interrupt
     * before (the thread was in the user's code as the stop came), the interrupt is taken back
     * once delivered: the stop it stood for has been seen, and the cleanup that follows must run
     * uninterrupted.
     */
    private void ownStopSeen() {
        while (true) {
            int s = ownState;
            if (s == DONE) {
                return;
            }
            if (s == NONE || s == PARKED) {
                if (OWN_STATE.compareAndSet(this, s, DONE)) {
                    return;
                }
                continue;
            }
            while (ownState == INTERRUPTING) {
                Thread.onSpinWait(); // the stopper is between its claim and Thread.interrupt(): nanoseconds
            }
            Thread.interrupted();
            ownState = DONE;
            return;
        }
    }

    /** True when the calling thread is this run's own thread. */
    boolean isCurrentThread() {
        return thread == Thread.currentThread();
    }

    private void ended() {
        Tree tree = tree();
        if (handoff instanceof StopChain.Link) { // its stopper reads the end once it sees exited
            endedAt = tree.now();
        }
        tree.liveRuns.decrement();
        exited = true; // written before stopRequested/unstopped are read: with the
        Object h = handoff; // stopper's write-then-read of the same fields, one of the
        if (h instanceof Thread w) { // two always sees the other
            LockSupport.unpark(w);
        } else if (h instanceof StopChain.Link link) { // a stop in turn: this end asks the next child
            link.runEnded(stopRequestedAt != null, endedAt);
        }
        boolean byItself =
                stopRequestedAt == null || unstopped; // ended on its own, or late after being reported unstopped
        Handoff.Open handedOff = null;
        int restarted = Handoff.NO;
        if (byItself) { // (a requested stop is timed and finished by the stopper)
            if (endedAt == null) { // read already if a stop in turn was armed on it
                endedAt = tree.now();
            }
            if (h instanceof Handoff.Open open && (restarted = Handoff.restartOnEnd(this, open)) != Handoff.NO) {
                handedOff = open;
            }
        }
        if (restarted == Handoff.NO) { // a successor took this run's place in the count: it never touches 0 between
            owner.runEnded();
        }
        if (byItself) { // after a restart on this thread, maybe without waking the loop (Handoff.Open.BATCH)
            Msg.Exited e = new Msg.Exited(child, this, handedOff);
            if (restarted == Handoff.REPORT_LATER) {
                owner.host.postQuietly(e);
            } else {
                owner.post(e);
            }
        }
    }

    /** A successor whose thread could not start (out of memory): it ends at once with {@code e}, unstarted. */
    void failedToStart(Throwable e) {
        tree().liveRuns.increment();
        failure = e;
        ended();
    }

    /** Puts {@code next} in the open slot {@code open} unless a stop closed it first; true if it did. */
    boolean claimSlot(Handoff.Open open, Run next) {
        return HANDOFF.compareAndSet(this, open, next);
    }

    /**
     * The loop allows a zero-delay restart of this run's failure on its own thread, before the
     * thread starts (or a successor inherits its predecessor's permission, before it is published).
     */
    void allowRestartOnEnd(Handoff.Open open) {
        handoff = open;
    }

    /**
     * A stop in turn will come to this run: its end asks the next child to stop ({@link StopChain}).
     * The successor slot was closed ({@link #closeHandoff()} returned true); the link takes its place.
     */
    void armStopChain(StopChain.Link link) {
        handoff = link;
    }

    /** The run this one's own thread started in its place, or null. */
    Run successor() {
        return handoff instanceof Run next ? next : null;
    }

    /**
     * Closes the successor slot before a stop looks at the run: true if no successor can start
     * any more; false if one already did ({@link #successor()}: the loop takes it over and closes its slot).
     */
    boolean closeHandoff() {
        while (true) {
            Object h = handoff;
            if (!(h instanceof Handoff.Open)) {
                return !(h instanceof Run);
            }
            if (HANDOFF.compareAndSet(this, h, Handoff.CLOSED)) {
                return true;
            }
        }
    }

    boolean exited() {
        return exited;
    }

    /**
     * Whether the run ends within a short spin (a few microseconds): a run interrupted out of a
     * blocking call usually does, and its stopper then needs no timer and no park.
     */
    boolean exitedSoon() {
        for (int i = 0; i < SPINS; i++) {
            if (exited) {
                return true;
            }
            Thread.onSpinWait();
        }
        return exited;
    }

    private static final int SPINS = 2_000;

    /** Waits until the run has ended or {@code deadline} passed; true if it ended. */
    boolean awaitExit(Deadline deadline) {
        handoff = Thread.currentThread(); // the slot was closed by the stop that waits here
        try {
            while (!exited && !deadline.passed()) {
                LockSupport.park(this);
            }
            return exited;
        } finally {
            handoff = Handoff.CLOSED;
        }
    }

    /**
     * Registers a thread to be unparked by {@link #cancel()}. The run's own thread, the usual and
     * hot case (a million parked services), takes no lock: it writes {@code ownState} and then
     * reads {@code cancelled}, while cancel() writes {@code cancelled} and then reads
     * {@code ownState}; with both volatile, one of the two always sees the other.
     */
    private void addWaiter(Thread t) {
        if (t == thread) {
            OWN_STATE.compareAndSet(this, NONE, PARKED); // else DONE or claimed: cancelled is set, no park follows
            return;
        }
        synchronized (this) {
            addToWaiters(t);
        }
    }

    /** Adds a thread or a callback to the waiters; the caller holds the lock. */
    private void addToWaiters(Object w) {
        if (waiters == null) {
            waiters = w;
        } else if (waiters instanceof List<?> old) {
            @SuppressWarnings("unchecked")
            List<Object> list = (List<Object>) old;
            list.add(w);
        } else {
            List<Object> list = new ArrayList<>(2);
            list.add(waiters);
            list.add(w);
            waiters = list;
        }
    }

    private void removeWaiter(Thread t) {
        if (t == thread) {
            if (cancelled) {
                ownStopSeen();
            } else {
                OWN_STATE.compareAndSet(this, PARKED, NONE);
            }
            return;
        }
        synchronized (this) {
            if (waiters == t) {
                waiters = null;
            } else if (waiters instanceof List<?> list) {
                list.remove(t);
            }
        }
    }

    @Override
    public String toString() {
        return "ServiceCtx[" + path + ", attempt=" + attempt + (cancelled ? ", stopping" : "")
                + (exited ? ", ended" : "") + "]";
    }

    /** A timer's wake-up of one sleeper. */
    private static final class Wake implements Runnable {
        private final Thread sleeper;
        volatile boolean fired;

        Wake(Thread sleeper) {
            this.sleeper = sleeper;
        }

        @Override
        public void run() {
            fired = true;
            LockSupport.unpark(sleeper);
        }
    }
}
