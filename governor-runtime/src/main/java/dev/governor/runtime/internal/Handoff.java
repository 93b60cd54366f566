package dev.governor.runtime.internal;

import dev.governor.RestartPolicy;

/**
 * A zero-delay restart decided on the ending run's own thread (issue 13, W2): no round trip
 * through the supervisor's loop between the end of a run and the start of the next. When the loop
 * starts a run of a child whose failure would restart at once with nothing to count (see {@link
 * EndOfRun#restartsOnEnd}), it opens the run's successor slot ({@link Run#allowRestartOnEnd}). If
 * the run then fails, its own thread makes the next run, puts it in the slot with a CAS and starts
 * it ({@link #restartOnEnd}); a stop closes the slot with a CAS of its own before it looks at the
 * child's run ({@link Run#closeHandoff}). Whoever wins decides: a closed slot means the loop
 * decides, as for any end; a successor in the slot is taken over by the loop (the failure, the
 * restart and the start reported in that order, {@link EndOfRun#takeOverUpTo}) before it acts
 * on the child in any other way. Nothing of the child is written off the loop.
 */
final class Handoff {
    private Handoff() {}

    /** The slot of a run being stopped. */
    static final Object CLOSED = new Object() {
        @Override
        public String toString() {
            return "closed";
        }
    };

    /**
     * An open successor slot, shared by a run the loop started and the successors started on their
     * predecessors' threads after it: the attempt of the last of them the loop has taken over. A run
     * more than {@link #K} attempts ahead of it restarts through the loop: a loop that falls behind a
     * service failing in a tight loop has at most K runs and messages of it waiting.
     */
    static final class Open {
        static final int K = 8;
        volatile int adopted; // written by the loop only

        Open(int attempt) {
            this.adopted = attempt;
        }

        @Override
        public String toString() {
            return "open(taken over up to attempt " + adopted + ")";
        }
    }

    /** Whether {@code policy} restarts a failure at once with nothing to count: no delay, no limit. */
    static boolean restartsAtOnce(RestartPolicy policy) {
        return policy.restarts(true) && policy.delay().isZero() && policy.maxRestarts() <= 0;
    }

    /**
     * On {@code r}'s thread as it ends by itself, its slot {@code open}: when the restart still
     * holds (a plain failure; the policy and the supervisor still without delay and limits; no
     * shutdown begun, the supervisor not stopping its children; at most {@link Open#K} runs ahead of
     * the loop), makes the next run and starts it, unless a stop closed the slot first; true if it
     * did. A policy or exception of the user's that throws here leaves the decision to the loop.
     */
    static boolean restartOnEnd(Run r, Open open) {
        try {
            Throwable f = r.failure;
            Tree t = r.tree();
            if (f == null
                    || f instanceof VirtualMachineError
                    || t.shuttingDown()
                    || r.owner.host.loopStopping()
                    || r.owner.intensityMax() >= 0) {
                return false;
            }
            if (r.attempt() - open.adopted >= Open.K
                    || !restartsAtOnce(r.child.effectivePolicy())
                    || StopServiceFinder.find(f) != null) {
                return false;
            }
            Run next = new Run(r.owner, r.child, r.name(), r.attempt() + 1);
            next.startedAt = r.endedAt; // one instant for the end, the decision and the start
            next.allowRestartOnEnd(open);
            // as the loop's runs: nothing inherited from the failed run's thread
            Thread th = Thread.ofVirtual()
                    .name(r.name())
                    .inheritInheritableThreadLocals(false)
                    .unstarted(next);
            th.setContextClassLoader(t.contextLoader);
            next.thread = th;
            if (!r.claimSlot(open, next)) {
                return false; // a stop closed the slot first: the loop decides, as for any end
            }
            r.owner.host.liveRuns.incrementAndGet(); // before r's end is counted: a parallel stop never sees 0 between
            try {
                th.start();
            } catch (Throwable e) { // the loop takes it over and sees it failed
                next.failedToStart(e);
            }
            return true;
        } catch (Throwable e) {
            Tree.LOG.debug("{}: not restarted on its own thread", r.name(), e);
            return false;
        }
    }

    /** Whether the calling thread runs {@code r} or a run that {@code r}'s thread started in its place. */
    static boolean runsOnCurrentThread(Run r) {
        for (; r != null; r = r.successor()) {
            if (r.isCurrentThread()) {
                return true;
            }
        }
        return false;
    }
}
