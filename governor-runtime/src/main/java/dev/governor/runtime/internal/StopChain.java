package dev.governor.runtime.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A stop in turn's hand-over from one run's end to the next child's stop request, made on the
 * ending thread. Stopping N children one at a time used to cost two thread switches per child: the
 * loop asked a child to stop and parked, the child's run ended and woke the loop, which only then
 * asked the next. With the chain, the run that ends asks the next child itself (cancel, then
 * Stoppable.stop() and the interrupt, as the loop would), and the loop follows behind: it finds the
 * child already asked, publishes and records what it would have, and waits only when it has caught
 * up. The order is the documented one: a child is asked only once the run before it has ended.
 *
 * <p>Who asks a child is decided by one CAS on its link: the run before it as it ends, or the loop
 * when it comes to the child first (the run before was reported unstopped, or ended before the
 * loop armed it). A child is chained only when the loop's own request would be the cancel and the
 * interrupt and nothing else: a leaf service with no drain. A supervisor, a drain, or a run that
 * already started a successor breaks the chain there, and the loop asks that child itself.
 */
final class StopChain {
    private StopChain() {}

    /**
     * Arms the children about to be stopped in reverse order: links[i] is child i's, or null when
     * the loop asks it itself. Closes each armed run's successor slot (no restart on its own thread
     * from now on) and puts the link there, where the run's end finds it. Returns null when no child
     * could be chained (or there is only one).
     */
    static Link[] arm(List<Child> all) {
        int n = all.size();
        if (n < 2) {
            return null;
        }
        Link[] links = new Link[n];
        int armed = 0;
        for (int i = 0; i < n; i++) {
            Child c = all.get(i);
            Run r = c.run;
            if (r == null
                    || c.isSupervisor()
                    || !c.drainTimeout().isZero()
                    || r.exited()
                    || r.stopRequested()
                    || !r.closeHandoff()) {
                continue;
            }
            // children stop from the last to the first: link i asks i - 1 if that one is armed
            Link l = new Link(c, r, i > 0 ? links[i - 1] : null);
            links[i] = l;
            r.armStopChain(l);
            armed++;
        }
        return armed == 0 ? null : links;
    }

    /** Claims every link not yet claimed: no late end asks a child after the stop in turn left it. */
    static void disarm(Link[] links) {
        if (links != null) {
            for (Link l : links) {
                if (l != null) {
                    l.claim();
                }
            }
        }
    }

    /** One armed child: who asks it to stop, and the wait for its run's end. */
    static final class Link {
        private static final int OPEN = 0;
        private static final int ASKING = 1;
        private static final int ASKED = 2;
        private static final VarHandle STATE;

        static {
            try {
                STATE = MethodHandles.lookup().findVarHandle(Link.class, "state", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        final Child child;
        final Run run;
        /** The child stopped after this one (the one before it in start order), or null. */
        private final Link next;

        private volatile int state;
        /** Written before state becomes ASKED: the run had ended by itself before its request. */
        private boolean endedBefore;
        /** The loop, while it waits for this run to end. */
        private volatile Thread waiter;

        private Link(Child child, Run run, Link next) {
            this.child = child;
            this.run = run;
            this.next = next;
        }

        /** The loop's claim before it asks the child itself; false: the run before asked it (see {@link #awaitAsked}). */
        boolean claim() {
            return STATE.compareAndSet(this, OPEN, ASKED);
        }

        /**
         * After a failed {@link #claim}: waits out the asking thread (it is between its claim and the
         * interrupt, microseconds) and returns whether the run had ended before it was asked.
         */
        boolean awaitAsked() {
            for (int spins = 0; state != ASKED; spins++) {
                if (spins < 1_000) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield(); // the asker lost its carrier or its CPU: let it finish
                }
            }
            return endedBefore;
        }

        /**
         * On the run's own thread, from {@link Run}'s end, once it has ended ({@code at}: its end,
         * read before it was marked ended). {@code asked}: it had been asked to stop; only then is the
         * next child asked, at the same instant. Then the loop, if it waits for this run, is woken.
         */
        void runEnded(boolean asked, Instant at) {
            try {
                Link n = next;
                if (asked && n != null) {
                    n.ask(at);
                }
            } finally {
                Thread w = waiter;
                if (w != null) {
                    LockSupport.unpark(w);
                }
            }
        }

        /** Asks the child to stop, as the loop's request would, unless the loop claimed it first. */
        private void ask(Instant at) {
            if (!STATE.compareAndSet(this, OPEN, ASKING)) {
                return;
            }
            try {
                Run r = run;
                r.stopRequestedAt = at; // then exited is read: see Run.ended
                if (r.exited()) {
                    endedBefore = true;
                } else {
                    r.cancel();
                    StopSequence.forceStop(child, r, false);
                }
            } catch (Throwable e) { // the loop still finishes the stop; the interrupt went out or it waits the timeout
                Tree.LOG.debug("{}: asking it to stop on the previous run's end failed", child.path(), e);
            } finally {
                state = ASKED;
            }
        }

        /** Waits until the run ended or {@code deadline} passed; true if it ended. The loop's wait in turn. */
        boolean awaitEnd(Deadline deadline) {
            waiter = Thread.currentThread();
            try {
                while (!run.exited() && !deadline.passed()) {
                    LockSupport.park(this);
                }
                return run.exited();
            } finally {
                waiter = null;
            }
        }

        @Override
        public String toString() {
            return "StopChain.Link[" + child.path() + ", state=" + state + "]";
        }
    }
}
