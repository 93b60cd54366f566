package dev.governor.runtime.internal;

import dev.governor.GovernorEvent;
import dev.governor.ServiceState;
import dev.governor.Stoppable;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * How a supervisor loop stops its children: cancel, drain, {@link Stoppable#stop()} and
 * interrupt, then a wait bounded by the child's stop timeout and the shutdown's deadline; a run
 * that does not stop in time is reported unstopped and left behind. Runs on the loop's thread,
 * as part of the loop: it changes the children's state as the loop does.
 */
final class StopSequence {
    private final SupervisorLoop loop;
    private final SupervisorImpl sup;
    private final Tree tree;

    StopSequence(SupervisorLoop loop, SupervisorImpl sup, Tree tree) {
        this.loop = loop;
        this.sup = sup;
        this.tree = tree;
    }

    /** Cancels, calls Stoppable.stop() on its own thread, interrupts: the first half of a stop. */
    void requestStop(Child c) {
        requestStop(c, tree.now(), LEFT_UNREAD, null);
    }

    /** A time left never read: a drain reads it when it needs it (a negative time left never occurs). */
    private static final Duration LEFT_UNREAD = Duration.ofNanos(-1);

    /**
     * {@code left}: the shutdown's time left at {@code now} (null: none under way), read once for a
     * whole pool, or {@link #LEFT_UNREAD}. The line and record of the child stopped before, if held
     * back, are let out once this one has been made to stop: they are written while its run ends.
     * {@code counted}: where a pool stopped together adds its state changes (see Child.publish), or
     * null: counted at once.
     */
    private void requestStop(Child c, Instant now, Duration left, long[] counted) {
        loop.cancelRestart(c);
        Run r = c.run;
        if (r == null || r.stopRequested()) {
            releaseHeld();
            return;
        }
        r.stopRequestedAt = now; // also marks the stop requested
        if (r.exited()) { // it ended by itself before this request: report what really happened
            releaseHeld();
            loop.ends().endedBeforeStop(c, r, now);
            return;
        }
        c.ready(false);
        r.cancel();
        Duration drain = c.drainTimeout();
        if (!drain.isZero()) {
            drain = Durations.min(drain, left == LEFT_UNREAD ? tree.shutdownTimeLeft(now) : left);
        }
        if (drain.isZero() || drain.isNegative() || r.exited()) {
            forceStop(c, r, false);
        } else { // the run may finish its in-flight work by itself for that long; then it is made to stop
            Duration d = drain;
            tree.scheduler.schedule(d, () -> {
                if (!r.exited()) {
                    Tree.LOG.warn("{} did not finish draining within {} ms: stopping it", c.path(), d.toMillis());
                    forceStop(c, r, true);
                }
            });
        }
        // STOPPING becomes visible only once the drain's timer is set: whoever sees it (a test advancing a
        // virtual clock, say) finds the drain already due at now + drain
        stopping(c, counted);
    }

    /** The asked child is STOPPING: the line and record held back before it are let out first. */
    private void stopping(Child c, long[] counted) {
        releaseHeld();
        if (Tree.LOG.isDebugEnabled()) {
            Tree.LOG.debug("stopping {}", c.path());
        }
        c.publish(ServiceState.STOPPING, counted);
        loop.refresh(c);
    }

    /**
     * Calls Stoppable.stop() on its own thread and interrupts the run: after the cancel (and the drain).
     * Right after the cancel, a thread that saw the stop in a ctx wait is not interrupted (its cleanup
     * runs in peace); once a drain has run out, it is. Any thread may call it: the loop, a drain's
     * timer, or the previous run's end in a stop in turn ({@link StopChain}).
     */
    static void forceStop(Child c, Run r, boolean drainRanOut) {
        if (c.service instanceof Stoppable s && !r.exited()) {
            Thread.ofVirtual().name(c.path() + "/stop").start(() -> {
                try {
                    s.stop();
                } catch (Throwable e) {
                    Tree.LOG.warn("{}: Stoppable.stop() threw; stopping goes on", c.path(), Untrusted.loggable(e));
                }
            });
        }
        if (!c.isSupervisor() && (drainRanOut ? r.claimInterruptAfterDrain() : r.claimInterrupt())) {
            try {
                Thread th = r.thread;
                if (th != null) {
                    th.interrupt();
                }
            } finally {
                r.interruptDelivered();
            }
        }
    }

    /** The second half of a stop: waits for the run within its timeout (and the shutdown's); true if it ended. */
    boolean awaitStop(Child c) {
        Run r = c.run;
        if (r == null) {
            return true;
        }
        if (r.exitedSoon()) { // the usual case: it ends microseconds after the interrupt; no timer for it
            return true;
        }
        Duration timeout = stopTimeout(c, tree.shutdownTimeLeft());
        Deadline d = Deadline.after(tree.scheduler, timeout);
        try {
            return r.awaitExit(d);
        } finally {
            d.cancel();
        }
    }

    private Duration stopTimeout(Child c, Duration left) {
        Duration own = ownTimeout(c);
        if (left == null) {
            return own;
        }
        return own == null || left.compareTo(own) < 0 ? left : own;
    }

    /** The child's own stop timeout (its drain included); null: none of its own. */
    private Duration ownTimeout(Child c) {
        Duration own = c.stopTimeout(tree.options.serviceShutdownTimeout());
        Duration drain = c.drainTimeout();
        return own != null && !drain.isZero() ? Durations.plus(own, drain) : own;
    }

    /** When a stop requested at {@code from} stops being waited for: its own timeout or the shutdown's end; null: never. */
    private Instant stopMoment(Child c, Instant from) {
        Duration own = ownTimeout(c);
        Instant end = tree.shutdownDeadline();
        if (own == null) {
            return end;
        }
        Instant mine = Checks.plusSaturated(from, own);
        return end == null || mine.isBefore(end) ? mine : end;
    }

    void finishStop(Child c, boolean ended) {
        finishStop(c, ended, tree.now(), false);
    }

    /**
     * {@code hold}: the line and the stop-time record wait for the next child's stop request
     * ({@link #releaseHeld}): a child stopped in turn is not kept waiting for the previous one's log
     * line. What is logged and recorded, and in which order, is the same.
     */
    private void finishStop(Child c, boolean ended, Instant now, boolean hold) {
        Run r = c.run;
        if (r == null) {
            return;
        }
        Tree t = tree;
        if (ended) {
            Duration took = took(r.stopRequestedAt, now);
            c.run = null;
            c.publish(ServiceState.STOPPED);
            String path = c.path();
            if (hold) {
                heldPath = path;
                heldTook = took;
            } else {
                stopped(path, took);
            }
            if (t.bus.hasListeners()) {
                t.publish(new GovernorEvent.Stopped(path, now, took));
            }
        } else {
            Duration waited = Duration.between(r.stopRequestedAt, now);
            r.unstopped = true;
            if (r.exited()) { // it ended as the deadline passed: stopped after all
                finishStop(c, true, now, hold);
                return;
            }
            Tree.LOG.warn("{} did not stop within {} ms: reported unstopped, going on", c.path(), waited.toMillis());
            t.recordUnstopped(c.path());
            t.publish(new GovernorEvent.StopTimedOut(c.path(), now, waited));
        }
        loop.refresh(c);
    }

    private String heldPath;
    private Duration heldTook;

    /** Logs and records the stop held back by finishStop, if any. */
    private void releaseHeld() {
        String path = heldPath;
        if (path != null) {
            heldPath = null;
            stopped(path, heldTook);
            heldTook = null;
        }
    }

    private void stopped(String path, Duration took) {
        if (loop.logsStarts()) {
            loop.logInfo("stopped {} in {} ms", path, took.toMillis());
        }
        tree.recordStopTime(path, took);
    }

    /** Stops {@code all} in reverse start order (concurrently for a parallel-stop supervisor). */
    void stopAll(List<Child> all) {
        if (all.isEmpty()) {
            return;
        }
        if (sup.isParallelStop()) {
            stopTogether(all);
        } else {
            stopInTurn(all);
        }
    }

    /**
     * One at a time, in reverse start order (documented; OTP's order): each child's run has ended,
     * or its timeout passed, before the next is asked to stop. The ending run asks the next child
     * itself ({@link StopChain}) and the loop follows, publishing and recording as it goes; around
     * that, as little as possible: one clock read per request and one per end, one timer for the
     * whole sequence (see {@link Deadline#rolling}), and the previous child's line and record
     * written while the next one's run ends.
     */
    private void stopInTurn(List<Child> all) {
        Deadline d = Deadline.rolling(tree.scheduler);
        StopChain.Link[] links = StopChain.arm(all);
        try {
            for (int i = all.size() - 1; i >= 0; i--) {
                Child c = all.get(i);
                StopChain.Link link = links == null ? null : links[i];
                if (link == null || link.claim()) {
                    requestStop(c, tree.now(), LEFT_UNREAD, null);
                } else {
                    askedByChain(c, link.run, link.awaitAsked());
                }
                Run r = c.run;
                if (r == null) {
                    continue;
                }
                boolean ended = r.exited() || awaitInTurn(c, r, d, link);
                // a chained run's end was read by its own thread: the loop may be well behind it
                Instant end = ended && link != null && r.endedAt != null ? r.endedAt : tree.now();
                d.waitOver(i > 0 ? stopMoment(all.get(i - 1), end) : null);
                finishStop(c, ended, end, true);
            }
        } finally {
            StopChain.disarm(links);
            d.cancel();
            releaseHeld();
        }
    }

    /**
     * The loop's part of a request the previous run's end made ({@link StopChain}): what {@link
     * #requestStop} does besides the cancel and the interrupt, which were made already.
     */
    private void askedByChain(Child c, Run r, boolean endedBefore) {
        loop.cancelRestart(c); // the successor slot is closed already: withdraws a queued start, if any
        if (endedBefore) { // it ended by itself before the request: report what really happened
            releaseHeld();
            loop.ends().endedBeforeStop(c, r, r.stopRequestedAt);
            return;
        }
        c.ready(false);
        stopping(c, null);
    }

    /**
     * Parks at once, no spin first: measured on 2 carriers under load (W3, 10,000 children in socket
     * reads), a spin of 200 or 2,000 {@code onSpinWait}s before the park made the stop slower (median
     * 0.71 s and 0.79 s against 0.60 s): the spinning loop holds the carrier the ending run needs, while
     * a parked loop leaves it to the run, which wakes the loop as it ends.
     */
    private boolean awaitInTurn(Child c, Run r, Deadline d, StopChain.Link link) {
        d.waitUntil(stopMoment(c, r.stopRequestedAt), tree.clock);
        return link != null ? link.awaitEnd(d) : r.awaitExit(d);
    }

    /** All at once: every child is asked to stop, then one wait for the whole pool. */
    private void stopTogether(List<Child> all) {
        Instant requested = tree.now();
        // once for the pool, not per child: a drain is bounded by the time left when the pool's stop began
        // (the wait below reads it again, so the shutdown's deadline still bounds the whole stop)
        Duration left = tree.shutdownTimeLeft(requested);
        Duration longest = null; // the longest own timeout of a child left running
        boolean unbounded = false; // a child left running has none
        boolean anyRunning = false;
        // the tree's counts change once per pass (a lock and two atomic updates per child before), as a pool's start
        // does
        long[] counted = new long[ServiceState.values().length];
        try {
            for (int i = all.size() - 1; i >= 0; i--) {
                Child c = all.get(i);
                requestStop(c, requested, left, counted);
                if (c.run != null) {
                    anyRunning = true;
                    Duration own = ownTimeout(c);
                    if (own == null) {
                        unbounded = true;
                    } else if (longest == null || own.compareTo(longest) > 0) {
                        longest = own;
                    }
                }
            }
        } finally {
            tree.countAdded(counted);
        }
        left = tree.shutdownTimeLeft();
        Duration timeout; // the longest of the children's stop timeouts (each its own, bounded by the time left)
        if (left == null) {
            timeout = longest;
        } else if (!anyRunning) {
            timeout = null;
        } else {
            timeout = unbounded || left.compareTo(longest) < 0 ? left : longest;
        }
        Deadline d = Deadline.after(tree.scheduler, timeout);
        try {
            awaitNoLiveRuns(d); // one wait for the whole pool, woken by the last run to end
            Instant now = tree.now();
            String[] paths = new String[all.size()];
            Duration[] times = new Duration[paths.length];
            int n = 0;
            try {
                for (int i = all.size() - 1; i >= 0; i--) {
                    Child c = all.get(i);
                    Run r = c.run;
                    if (r == null) {
                        continue;
                    }
                    if (r.exited() || r.awaitExit(d)) {
                        Duration took = took(r.stopRequestedAt, now);
                        String path = ended(c, now, took, counted);
                        paths[n] = path;
                        times[n++] = took;
                    } else { // the records so far first: the report keeps the stop order
                        tree.recordStopTimes(paths, times, n);
                        n = 0;
                        finishStop(c, false, tree.now(), false);
                    }
                }
            } finally {
                tree.countAdded(counted);
                tree.recordStopTimes(paths, times, n);
            }
        } finally {
            d.cancel();
        }
    }

    /** A pool's child whose run ended: published, logged (DEBUG in a pool) and, by the caller, recorded. */
    private String ended(Child c, Instant now, Duration took, long[] counted) {
        c.run = null;
        c.publish(ServiceState.STOPPED, counted);
        String path = c.path();
        if (loop.logsStarts()) {
            loop.logInfo("stopped {} in {} ms", path, took.toMillis());
        }
        if (tree.bus.hasListeners()) {
            tree.publish(new GovernorEvent.Stopped(path, now, took));
        }
        loop.refresh(c);
        return path;
    }

    private Instant tookFrom;
    private Instant tookTo;
    private Duration took;

    /**
     * {@code Duration.between(from, to)}, the last one kept: the children of a pool stopped
     * together share their request and end instants, and so one Duration.
     */
    private Duration took(Instant from, Instant to) {
        if (from != tookFrom || to != tookTo) {
            took = Duration.between(from, to);
            tookFrom = from;
            tookTo = to;
        }
        return took;
    }

    /** Waits until no run of a child is alive or {@code d} passed. */
    private void awaitNoLiveRuns(Deadline d) {
        sup.host.allEndedWaiter = Thread.currentThread();
        try {
            while (sup.host.liveRuns.get() > 0 && !d.passed()) {
                LockSupport.park(sup);
            }
        } finally {
            sup.host.allEndedWaiter = null;
        }
    }

    @Override
    public String toString() {
        return "StopSequence[" + sup.name() + "]";
    }
}
