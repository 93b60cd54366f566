package dev.governor.runtime.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * The sweep of a supervisor loop's chains of runs restarted on their own threads ({@link
 * Handoff}): while it watches a chain, the chain's ending threads wake the loop only every {@link
 * Handoff.Open#BATCH} runs instead of at every end (the wake-up of the loop was most of the cost of
 * a cycle: W2); the runs in between queue their Exited without waking it ({@link
 * Mailbox#addQuietly}), in order with every other message, and the loop handles them when the next
 * message wakes it. When none comes (the last successor keeps running), the sweep wakes the loop
 * within {@link #PERIOD_NANOS}. A message another thread posts after a run's end is thus handled
 * after that end's report, as when every end woke the loop.
 *
 * <p>The period is real time, not the governor's clock: it bounds how late a report comes, it
 * times nothing the tree decides (a test on a {@code VirtualClock} sees its reports without
 * advancing the clock). A chain quiet for a whole period is unwatched, and the sweep's virtual
 * thread ends when it watches nothing; the loop starts it again at the next burst, and closes it
 * when it ends.
 */
final class LateReports implements Runnable {
    /** The longest a run's end waits for the sweep to be reported: 1 ms. */
    static final long PERIOD_NANOS = 1_000_000L;

    private final String threadName;
    private final List<Handoff.Open> watched = new ArrayList<>(); // guarded by this
    private Thread thread; // guarded by this: the sweeping thread, null while none runs
    private boolean closed; // guarded by this

    LateReports(String supervisorName) {
        this.threadName = supervisorName.isEmpty() ? "governor-reports" : "governor-reports " + supervisorName;
    }

    /** Loop thread: watches {@code open}, whose chain just restarted a run on its own thread. */
    void watch(Handoff.Open open) {
        if (open.watched) {
            return; // watched already: the usual case, without the lock
        }
        synchronized (this) {
            if (closed || open.watched) {
                return;
            }
            if (thread == null) {
                try {
                    thread = Thread.ofVirtual()
                            .name(threadName)
                            .inheritInheritableThreadLocals(false)
                            .start(this);
                } catch (Throwable e) { // out of memory: the chain's ending threads keep reporting every run
                    Tree.LOG.debug("{} not started", threadName, e);
                    return;
                }
            }
            watched.add(open);
            open.sweptAdopted = open.adopted;
            open.watched = true; // last: an ending thread that sees it is swept
        }
    }

    @Override
    public void run() {
        while (true) {
            LockSupport.parkNanos(this, PERIOD_NANOS);
            synchronized (this) {
                if (closed || !sweep()) {
                    thread = null;
                    return;
                }
            }
        }
    }

    /**
     * Wakes the loop of each watched chain whose last Exited did not wake it; unwatches a chain that did not
     * move for a period. False once nothing is watched. Under the lock.
     */
    private boolean sweep() {
        for (int i = watched.size() - 1; i >= 0; i--) {
            Handoff.Open open = watched.get(i);
            Run r = open.takeUnreported();
            if (r == null && open.sweptAdopted == open.adopted) { // quiet: every run is reported again
                open.watched = false;
                r = open.takeUnreported(); // left after the first take, before the ending thread saw the flag
                watched.remove(i);
            }
            open.sweptAdopted = open.adopted;
            if (r != null) {
                r.owner.host.wakeLoop(); // its Exited waits in the mailbox
            }
        }
        return !watched.isEmpty();
    }

    /** The loop ends (its children stopped, every slot closed): the sweep ends too. */
    void close() {
        Thread t;
        synchronized (this) {
            closed = true;
            for (Handoff.Open open : watched) {
                open.watched = false;
            }
            watched.clear();
            t = thread;
        }
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    @Override
    public synchronized String toString() {
        return "LateReports[" + threadName + ", " + watched.size() + " watched" + (closed ? ", closed" : "") + "]";
    }
}
