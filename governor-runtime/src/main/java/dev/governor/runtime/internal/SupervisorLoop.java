package dev.governor.runtime.internal;

import dev.governor.GovernorEvent;
import dev.governor.ServiceState;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One incarnation of a supervisor's run: the loop that alone acts on its children, fed by
 * {@link Msg}s through {@link #mailbox}. It starts the children in order, handles each message
 * ({@link #handle}: the complete list of what a supervisor does), and, when cancelled, escalating
 * or done, stops them in reverse order. Its parts, on the same thread: {@link ChildCounts}
 * (readiness and activity), {@link EndOfRun} (a run ended: policy, restart, escalation) and
 * {@link StopSequence} (stopping a child). Nothing here is locked: only this thread touches it.
 */
final class SupervisorLoop {
    private final SupervisorImpl sup;
    private final Tree tree;
    private final boolean root;
    final Mailbox mailbox = new Mailbox();
    private final Thread.Builder.OfVirtual threads = Thread.ofVirtual().inheritInheritableThreadLocals(false);
    final StopSequence stops;
    private final EndOfRun ends;
    private final ChildCounts counts;
    private volatile boolean cancelled; // also read by runs restarting themselves (LoopHost.loopStopping)
    /** {@link #busySince} while the loop waits for a message. */
    static final long IDLE = Long.MIN_VALUE;
    // when the message in hand began, in milliseconds of the tree's clock (read without making an Instant); IDLE when
    // idle
    private volatile long busySince = IDLE;

    SupervisorLoop(SupervisorImpl sup, Tree tree, Consumer<Boolean> readySink, Consumer<Boolean> activeSink) {
        this.sup = sup;
        this.tree = tree;
        this.root = sup.isRoot();
        this.counts = new ChildCounts(sup, tree, readySink, activeSink);
        this.stops = new StopSequence(this, sup, tree);
        this.ends = new EndOfRun(this, sup, tree, counts);
    }

    /** Starts {@code order}, handles messages until cancelled, escalating or done, then stops the children. */
    void run(List<Child> order) {
        try {
            startFirst(order);
            counts.publishReadiness(cancelled);
            counts.afterMessage(cancelled || ends.ending());
            loop();
        } finally {
            stopAll();
            ends.loopEnded();
            busySince = IDLE;
        }
    }

    /**
     * The first start of this incarnation, in one pass over the children: each child's loop state
     * is reset and, when no child depends on another, it starts right there (a pool of a million
     * is read once, not three times: each pass missed the cache on every child). With
     * dependencies, every child is marked pending first and {@link #startPending} orders them.
     * Nobody sees the difference: a child marked pending is still NEW to every reader, and the
     * parent hears this supervisor's readiness once, after the pass.
     */
    private void startFirst(List<Child> order) {
        boolean atOnce = !sup.anyDependsOn();
        Optional<Instant> now = null; // one timestamp for the children started together
        long[] counted = startCounts;
        String parentPath = sup.pathOrNull(); // and one read of their parent's path
        boolean hold = counts.hold();
        try {
            for (Child c : order) {
                c.clearCounted();
                if (c.removed()) {
                    continue;
                }
                c.freshIncarnation();
                if (root && c.state() != ServiceState.NEW) {
                    refresh(c);
                    continue; // the root runs once; a child stopped before start stays stopped
                }
                Run old = c.run;
                if (old != null) { // a run of the previous incarnation that would not stop
                    if (old.exited()) {
                        ends.endLateRun(c, old);
                    } else {
                        Tree.LOG.warn(
                                "{} is still running from before {} restarted (it would not stop): "
                                        + "it starts again only once that run ends",
                                c.path(),
                                sup.name());
                    }
                }
                setPending(c, true);
                if (atOnce && c.run == null) {
                    if (now == null) {
                        now = Optional.of(tree.now());
                    }
                    startChild(c, now, counted, parentPath);
                } else {
                    refresh(c);
                }
            }
        } finally {
            tree.countAdded(counted);
            if (hold) {
                counts.release(cancelled);
            }
        }
        startPending(); // the children that wait for others (or for a run of the previous incarnation)
    }

    /** Why the loop gave up, if it did: its supervisor's run throws it. */
    RuntimeException escalation() {
        return ends.escalation();
    }

    boolean cancelled() {
        return cancelled;
    }

    EndOfRun ends() {
        return ends;
    }

    /** When the message in hand began, in milliseconds of the tree's clock; IDLE while the loop waits for one. */
    long busySince() {
        return busySince;
    }

    // ---- the complete list of what a supervisor does ----

    /** Handles one message; an operation's {@code done} completes after it (exceptionally if refused). */
    void dispatch(Msg m) {
        if (m instanceof Msg.Op op) {
            try {
                handle(m);
                op.done().complete(null);
            } catch (Throwable t) {
                op.done().completeExceptionally(t);
            }
        } else {
            handle(m);
        }
    }

    /**
     * Everything that can happen to a running supervisor, one message each. By {@code instanceof},
     * the most frequent first, not by a type switch: a pattern {@code switch} bootstraps
     * {@code SwitchBootstraps} and spins a class on its first use, ~20 ms on the first message of a
     * cold JVM (the path to {@code READY=1}), even with an AOT cache.
     */
    private void handle(Msg m) {
        if (m instanceof Msg.Exited e) {
            onExit(e.child(), e.run(), e.open());
        } else if (m instanceof Msg.ReadyChanged r) {
            onReadyChanged(r.child(), r.run(), r.ready());
        } else if (m instanceof Msg.ActiveChanged a) {
            onActiveChanged(a.child(), a.run(), a.active());
        } else if (m instanceof Msg.RestartDue r) {
            onRestartDue(r.group(), r.token());
        } else if (m instanceof Msg.Cancel) {
            cancelled = true;
        } else if (m instanceof Msg.StopChild s) {
            stopChild(s.child());
        } else if (m instanceof Msg.RestartChild r) {
            restartChild(r);
        } else if (m instanceof Msg.RemoveChild r) {
            removeChild(r.child());
        } else if (m instanceof Msg.StartChild s) {
            startAdded(s);
        } else if (m instanceof Msg.StartNewChildren) {
            startNewChildren();
        } else {
            throw new IllegalStateException(
                    "a message no loop handles: " + m.getClass().getName());
        }
    }

    /**
     * A run ended by itself. Readiness is told once, after the whole message: a zero-delay restart
     * takes the child through RESTARTING to RUNNING within it, and a flip undone in the same message
     * is seen by nobody (no "not ready" and "ready again" per cycle of a service failing in a loop).
     */
    private void onExit(Child c, Run r, Handoff.Open open) {
        counts.hold();
        try {
            ends.onExit(c, r, open);
        } finally {
            counts.release(cancelled);
        }
    }

    /** Stops one child for good (it stays a child, STOPPED). */
    private void stopChild(Child c) {
        if (c.removed()) {
            return; // removed meanwhile: it is stopped already
        }
        stop(c);
    }

    /** Stops then starts one child at once. */
    private void restartChild(Msg.RestartChild op) {
        Child c = op.child();
        if (cancelled || tree.shuttingDown()) {
            throw new IllegalStateException(op.what() + ": shutdown has begun");
        }
        if (c.removed()) {
            throw new IllegalArgumentException(op.what() + ": the child was removed meanwhile");
        }
        stop(c);
        if (c.run == null) {
            logInfo("restarting {} on request", c.path());
            startChild(c);
        }
    }

    private void removeChild(Child c) {
        if (c.removed()) {
            return;
        }
        stop(c);
        IdleOperations.forget(sup, c, this);
    }

    /** Starts a child added while this supervisor runs (dependencies permitting) as soon as possible. */
    private void startAdded(Msg.StartChild op) {
        Child c = op.child();
        if (c.removed() || c.run != null || c.state() != ServiceState.NEW) {
            return;
        }
        List<String> missing =
                c.dependencies().stream().filter(d -> sup.child(d) == null).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("\"" + c.path() + "\" depends on unknown sibling(s) " + missing);
        }
        startSoon(c);
    }

    /** Starts every child still NEW. */
    private void startNewChildren() {
        for (Child c : sup.childrenView()) {
            if (c.state() == ServiceState.NEW && c.run == null && !c.pendingStart()) {
                startSoon(c);
            }
        }
    }

    private void stop(Child c) {
        stops.requestStop(c);
        stops.finishStop(c, stops.awaitStop(c));
    }

    private void startSoon(Child c) {
        setPending(c, true);
        refresh(c);
        startPending();
    }

    // ---- starting ----

    void startPending() {
        if (!counts.anyPending()) {
            return;
        }
        Optional<Instant> now = null; // one timestamp for the children started by one message
        String parentPath = sup.pathOrNull();
        boolean waiting = false;
        boolean hold = counts.hold(); // the parent hears this supervisor's readiness once, after the batch
        long[] counted = startCounts; // and the tree's counts change once for the batch
        try {
            for (Child c : sup.childrenView()) {
                if (c.pendingStart() && !cancelled && c.run == null) {
                    if (depsReady(c)) {
                        if (now == null) {
                            now = Optional.of(tree.now());
                        }
                        startChild(c, now, counted, parentPath);
                    } else {
                        waiting = true;
                    }
                }
            }
            if (waiting) {
                publishWaitingStarts();
            }
        } finally {
            tree.countAdded(counted);
            if (hold) {
                counts.release(cancelled);
            }
        }
    }

    /**
     * A child whose start is decided but waits for the siblings it depends on is STARTING; one that
     * can start at once goes from NEW or RESTARTING to RUNNING within this message, so nobody sees it
     * STARTING. (A sibling started above may have become ready already: check again.)
     */
    private void publishWaitingStarts() {
        for (Child c : sup.childrenView()) {
            if (c.pendingStart() && c.run == null && c.state() != ServiceState.STARTING && !depsReady(c)) {
                c.publish(ServiceState.STARTING);
                refresh(c);
            }
        }
    }

    private boolean depsReady(Child c) {
        for (String d : c.dependencies()) {
            Child dep = sup.child(d);
            if (dep != null && !(dep.run != null && dep.ready())) {
                return false;
            }
        }
        return true;
    }

    /** The state changes of a batch of starts, per state ordinal, told to the tree at its end (loop only). */
    private final long[] startCounts = new long[ServiceState.values().length];

    private void startChild(Child c) {
        startChild(c, Optional.of(tree.now()), null, sup.pathOrNull());
    }

    private void startChild(Child c, Optional<Instant> now, long[] counted, String parentPath) {
        Tree t = tree;
        setPending(c, false);
        c.freeze();
        int attempt = c.nextAttempt++;
        String path = c.path(parentPath); // once per start: the run, its thread and the lines below share it
        Run r = new Run(sup, c, path, attempt);
        c.run = r;
        c.ready(false);
        c.endedOnPurpose(false);
        if (c.isSupervisor()) {
            c.subtreeActive(true); // until its loop reports otherwise
        } else if (!t.serviceStarted) {
            t.serviceStarted = true;
        }
        r.startedAt = now.get();
        if (ends.restartsOnEnd(c)) {
            r.allowRestartOnEnd(new Handoff.Open(attempt));
        }
        Thread th = threads.name(path).unstarted(r);
        th.setContextClassLoader(t.contextLoader);
        r.thread = th;
        sup.host.liveRuns.incrementAndGet();
        boolean readyNow = c.readyOnStart();
        c.ready(readyNow);
        c.publishStarted(ServiceState.RUNNING, now, counted); // STARTING is not published: nobody could act on it
        th.start();
        if (logsStarts()) {
            logInfo("started {} (attempt {})", path, attempt);
        }
        if (t.bus.hasListeners()) {
            t.publish(new GovernorEvent.Started(path, r.startedAt, attempt));
            if (readyNow) {
                t.publish(new GovernorEvent.Ready(path, r.startedAt));
            }
        }
        refresh(c);
    }

    private void markReady(Child c) {
        c.ready(true);
        c.publish();
        tree.publish(new GovernorEvent.Ready(c.path(), tree.now()));
    }

    private void onReadyChanged(Child c, Run r, boolean ready) {
        ends.takeOverUpTo(c, r, cancelled); // r may have started on its predecessor's thread: told after its Started
        if (c.run != r || r.stopRequested() || c.ready() == ready) {
            return;
        }
        if (ready) {
            Tree.LOG.debug("{} is ready", c.path());
            markReady(c);
        } else {
            c.ready(false);
            c.publish();
        }
        refresh(c);
        startPending();
    }

    // ---- readiness and activity: counted by ChildCounts ----

    void refresh(Child c) {
        counts.refresh(c, cancelled);
    }

    void setPending(Child c, boolean value) {
        counts.setPending(c, value);
    }

    static boolean isActive(Child c) {
        return ChildCounts.isActive(c);
    }

    private void onActiveChanged(Child c, Run r, boolean isActive) {
        if (c.run != r) {
            return;
        }
        c.subtreeActive(isActive);
        refresh(c);
    }

    /** A restart with no delay, decided in this message: what its RestartDue would do, done at once. */
    void restartNow(List<Child> group, RestartGroup token) {
        onRestartDue(group, token);
    }

    private void onRestartDue(List<Child> group, RestartGroup token) {
        if (cancelled || tree.shuttingDown()) {
            return;
        }
        token.timer = null;
        for (Child c : group) {
            if (c.restartGroup() == token && c.state() == ServiceState.RESTARTING) {
                c.restartGroup(null);
                setPending(c, true);
                refresh(c);
            }
        }
        startPending();
    }

    void cancelRestart(Child c) {
        ends.closeHandoff(c, cancelled);
        if (IdleOperations.withdrawStart(c)) {
            counts.withdrew();
        }
        refresh(c);
    }

    /** Stops every child in reverse start order (concurrently for a parallel-stop supervisor). */
    private void stopAll() {
        cancelled = true;
        List<Child> all = sup.childrenView();
        for (Child c : all) {
            if ((c.state() == ServiceState.NEW || c.state() == ServiceState.STARTING) && c.run == null) {
                setPending(c, false);
                c.publish(ServiceState.STOPPED); // never started, and now never will in this incarnation
                refresh(c);
            }
        }
        stops.stopAll(all);
    }

    private void loop() {
        Mailbox box = mailbox;
        while (true) {
            Msg m;
            try {
                m = box.take();
            } catch (InterruptedException e) {
                return;
            }
            busySince = tree.clock.millis();
            try {
                dispatch(m);
                if (cancelled) {
                    return;
                }
                counts.afterMessage(ends.ending());
            } finally {
                busySince = IDLE;
            }
            if (ends.ending()) {
                return;
            }
        }
    }

    /** Whether the lines logInfo writes are logged at all (checked before their arguments are boxed). */
    boolean logsStarts() {
        return sup.isParallelStop() ? Tree.LOG.isDebugEnabled() : Tree.LOG.isInfoEnabled();
    }

    void logInfo(String fmt, Object a, Object b) {
        if (sup.isParallelStop()) {
            Tree.LOG.debug(fmt, a, b);
        } else {
            Tree.LOG.info(fmt, a, b);
        }
    }

    void logInfo(String fmt, Object a) {
        if (sup.isParallelStop()) {
            Tree.LOG.debug(fmt, a);
        } else {
            Tree.LOG.info(fmt, a);
        }
    }

    @Override
    public String toString() {
        return "SupervisorLoop[" + sup.name() + ", " + counts + (cancelled ? ", cancelled" : "") + "]";
    }
}
