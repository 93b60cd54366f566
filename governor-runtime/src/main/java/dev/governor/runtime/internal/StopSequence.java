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
        Instant now = tree.now();
        requestStop(c, now, tree.shutdownTimeLeft(now));
    }

    /** {@code left}: the shutdown's time left at {@code now} (null: none under way), read once for a whole pool. */
    private void requestStop(Child c, Instant now, Duration left) {
        loop.cancelRestart(c);
        Run r = c.run;
        if (r == null || r.stopRequested) {
            return;
        }
        r.stopRequested = true;
        r.stopRequestedAt = now;
        if (r.exited()) { // it ended by itself before this request: report what really happened
            loop.ends().endedBeforeStop(c, r, now);
            return;
        }
        c.ready(false);
        Tree.LOG.debug("stopping {}", c.path());
        r.cancel();
        Duration drain = Durations.min(c.drainTimeout(), left);
        if (drain.isZero() || drain.isNegative() || r.exited()) {
            forceStop(c, r, false);
        } else { // the run may finish its in-flight work by itself for that long; then it is made to stop
            tree.scheduler.schedule(drain, () -> {
                if (!r.exited()) {
                    Tree.LOG.warn("{} did not finish draining within {} ms: stopping it", c.path(), drain.toMillis());
                    forceStop(c, r, true);
                }
            });
        }
        // STOPPING becomes visible only once the drain's timer is set: whoever sees it (a test advancing a
        // virtual clock, say) finds the drain already due at now + drain
        c.publish(ServiceState.STOPPING);
        loop.refresh(c);
    }

    /**
     * Calls Stoppable.stop() on its own thread and interrupts the run: after the cancel (and the drain).
     * Right after the cancel, a thread that saw the stop in a ctx wait is not interrupted (its cleanup
     * runs in peace); once a drain has run out, it is.
     */
    private void forceStop(Child c, Run r, boolean drainRanOut) {
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
        Duration own = c.stopTimeout(tree.options.serviceShutdownTimeout());
        if (own != null && !c.drainTimeout().isZero()) {
            own = Durations.plus(own, c.drainTimeout());
        }
        if (left == null) {
            return own;
        }
        return own == null || left.compareTo(own) < 0 ? left : own;
    }

    void finishStop(Child c, boolean ended) {
        finishStop(c, ended, tree.now());
    }

    private void finishStop(Child c, boolean ended, Instant now) {
        Run r = c.run;
        if (r == null) {
            return;
        }
        Tree t = tree;
        if (ended) {
            Duration took = took(r.stopRequestedAt, now);
            c.run = null;
            c.publish(ServiceState.STOPPED);
            if (loop.logsStarts()) {
                loop.logInfo("stopped {} in {} ms", c.path(), took.toMillis());
            }
            t.recordStopTime(c.path(), took);
            if (t.bus.hasListeners()) {
                t.publish(new GovernorEvent.Stopped(c.path(), now, took));
            }
        } else {
            Duration waited = Duration.between(r.stopRequestedAt, now);
            r.unstopped = true;
            if (r.exited()) { // it ended as the deadline passed: stopped after all
                finishStop(c, true, now);
                return;
            }
            Tree.LOG.warn("{} did not stop within {} ms: reported unstopped, going on", c.path(), waited.toMillis());
            t.recordUnstopped(c.path());
            t.publish(new GovernorEvent.StopTimedOut(c.path(), now, waited));
        }
        loop.refresh(c);
    }

    /** Stops {@code all} in reverse start order (concurrently for a parallel-stop supervisor). */
    void stopAll(List<Child> all) {
        if (all.isEmpty()) {
            return;
        }
        if (sup.isParallelStop()) {
            Instant requested = tree.now();
            // once for the pool, not per child: a drain is bounded by the time left when the pool's stop began
            // (the wait below reads it again, so the shutdown's deadline still bounds the whole stop)
            Duration left = tree.shutdownTimeLeft(requested);
            for (int i = all.size() - 1; i >= 0; i--) {
                requestStop(all.get(i), requested, left);
            }
            left = tree.shutdownTimeLeft();
            Duration timeout = null;
            for (Child c : all) {
                if (c.run != null) {
                    Duration ct = stopTimeout(c, left);
                    timeout = ct == null || (timeout != null && timeout.compareTo(ct) > 0) ? timeout : ct;
                }
            }
            Deadline d = Deadline.after(tree.scheduler, timeout);
            try {
                awaitNoLiveRuns(d); // one wait for the whole pool, woken by the last run to end
                Instant now = tree.now();
                for (int i = all.size() - 1; i >= 0; i--) {
                    Child c = all.get(i);
                    if (c.run != null) {
                        boolean ended = c.run.exited() || c.run.awaitExit(d);
                        finishStop(c, ended, ended ? now : tree.now());
                    }
                }
            } finally {
                d.cancel();
            }
        } else {
            for (int i = all.size() - 1; i >= 0; i--) {
                Child c = all.get(i);
                requestStop(c);
                finishStop(c, awaitStop(c));
            }
        }
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
