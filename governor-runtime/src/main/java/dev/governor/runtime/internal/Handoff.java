package dev.governor.runtime.internal;

import dev.governor.RestartPolicy;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.ThreadFactory;

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
     *
     * <p>Once the loop has seen the chain restart on its own thread, it has a {@link LateReports}
     * sweep it ({@link #watched}): an ending thread then wakes the loop only every {@link #BATCH}
     * runs: the others post their Exited without waking it ({@link Mailbox#addQuietly}), to be
     * handled, in order, when it wakes for the next message or for the sweep, within {@link
     * LateReports#PERIOD_NANOS} ({@link #unreported}: the last run that did not wake it).
     *
     * <p>Each wake-up of the loop costs the chain: the harness's W2 cycle, in alternations of a few
     * minutes, read 1.40 µs with K = 64 (woken every 32 runs) against 1.34 with 256, and 1.30 with
     * 256 against 1.21 with 1,024 (every 512 runs: about as often as the sweep at ~800,000 restarts
     * a second); 4,096 gained nothing more. The backlog it bounds is at most K ended runs, each
     * with its failure, until the loop takes them over in one pass.
     */
    static final class Open {
        static final int K = 1024;
        /** How many runs ahead of the loop a watched chain's ending thread wakes it (woken once per BATCH runs). */
        static final int BATCH = K / 2;

        volatile int adopted; // written by the loop only
        volatile boolean watched; // a sweep looks at it; written under the sweep's lock
        private volatile Run unreported; // the last run whose Exited did not wake the loop, or null
        int sweptAdopted; // guarded by the sweep's lock: adopted as it last looked
        ThreadFactory threads; // the chain's successors' threads (made once, racy on purpose: all alike)

        private static final VarHandle UNREPORTED;

        static {
            try {
                UNREPORTED = MethodHandles.lookup().findVarHandle(Open.class, "unreported", Run.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        Open(int attempt) {
            this.adopted = attempt;
        }

        /** The last run whose Exited did not wake the loop, taken (null if none since the last take). */
        Run takeUnreported() {
            return (Run) UNREPORTED.getAndSet(this, (Run) null);
        }

        @Override
        public String toString() {
            return "open(taken over up to attempt " + adopted + (watched ? ", swept" : "") + ")";
        }
    }

    /** Whether {@code policy} restarts a failure at once with nothing to count: no delay, no limit. */
    static boolean restartsAtOnce(RestartPolicy policy) {
        return policy.restarts(true) && policy.delay().isZero() && policy.maxRestarts() <= 0;
    }

    /** {@link #restartOnEnd}: not restarted, the loop decides (its Exited is posted). */
    static final int NO = 0;
    /** {@link #restartOnEnd}: restarted; its Exited is posted (and wakes the loop if it waits). */
    static final int REPORT = 1;
    /** {@link #restartOnEnd}: restarted; its Exited is queued without waking the loop (Open#BATCH). */
    static final int REPORT_LATER = 2;

    /**
     * On {@code r}'s thread as it ends by itself, its slot {@code open}: when the restart still
     * holds (a plain failure; the policy and the supervisor still without delay and limits; no
     * shutdown begun, the supervisor not stopping its children; at most {@link Open#K} runs ahead of
     * the loop), makes the next run and starts it, unless a stop closed the slot first. Returns
     * {@link #NO}, {@link #REPORT} or {@link #REPORT_LATER}. A policy or exception of the user's
     * that throws here leaves the decision to the loop.
     */
    static int restartOnEnd(Run r, Open open) {
        try {
            Throwable f = r.failure;
            Tree t = r.tree();
            if (f == null
                    || f instanceof VirtualMachineError
                    || t.shuttingDown()
                    || r.owner.host.loopStopping()
                    || r.owner.intensityMax() >= 0) {
                return NO;
            }
            if (r.attempt() - open.adopted >= Open.K
                    || !restartsAtOnce(r.child.effectivePolicy())
                    || StopServiceFinder.find(f) != null) {
                return NO;
            }
            Run next = new Run(r.owner, r.child, r.name(), r.attempt() + 1);
            next.startedAt = r.endedAt; // one instant for the end, the decision and the start
            next.allowRestartOnEnd(open);
            ThreadFactory threads = open.threads;
            if (threads == null) { // as the loop's runs: nothing inherited from the failed run's thread
                threads = Thread.ofVirtual()
                        .name(r.name())
                        .inheritInheritableThreadLocals(false)
                        .factory();
                open.threads = threads; // one per chain, whose runs share the name
            }
            Thread th = threads.newThread(next);
            th.setContextClassLoader(t.contextLoader);
            next.thread = th;
            if (!r.claimSlot(open, next)) {
                return NO; // a stop closed the slot first: the loop decides, as for any end
            }
            // next takes r's place in the count of live runs (LoopHost.liveRuns): r's end is not counted
            int report = reportLater(r, open) ? REPORT_LATER : REPORT; // before next runs: see reportLater
            try {
                th.start();
            } catch (Throwable e) { // the loop takes it over and sees it failed
                next.failedToStart(e);
            }
            return report;
        } catch (Throwable e) {
            Tree.LOG.debug("{}: not restarted on its own thread", r.name(), e);
            return NO;
        }
    }

    /**
     * After {@code r} started its successor in {@code open}, before that successor's thread starts
     * (so that the successors of one chain decide one after the other): whether {@code r}'s Exited
     * may be queued without waking the loop. It may while a sweep watches the chain and the
     * successor is less than {@link Open#BATCH} runs ahead of the loop; r is then the chain's last
     * run not yet heard of, which the loop handles when any message wakes it, or when the sweep does.
     * The sweep unwatches a chain by clearing {@code watched} and then taking {@code unreported}; r
     * writes {@code unreported} and then reads {@code watched} again: one of the two sees the other.
     */
    private static boolean reportLater(Run r, Open open) {
        if (!open.watched || r.attempt() + 1 - open.adopted >= Open.BATCH) {
            open.unreported = null; // this Exited wakes the loop, which handles every one before it
            return false;
        }
        open.unreported = r;
        return open.watched;
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
