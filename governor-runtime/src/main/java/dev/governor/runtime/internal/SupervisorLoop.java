package dev.governor.runtime.internal;

import dev.governor.GovernorEvent;
import dev.governor.RestartPolicy;
import dev.governor.ServiceState;
import dev.governor.Stoppable;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * One incarnation of a supervisor's run: the loop that alone acts on its children, fed by
 * {@link Msg}s through {@link #mailbox}. It starts the children in order, handles their ends by
 * policy and strategy, and, when cancelled, escalating or done, stops them in reverse order.
 * Everything here runs on the loop's thread, so none of it is locked.
 */
final class SupervisorLoop {
    private final SupervisorImpl sup;
    private final Tree tree;
    private final boolean root;
    final LinkedBlockingQueue<Msg> mailbox = new LinkedBlockingQueue<>();
    private final Consumer<Boolean> readySink;
    private final Thread.Builder.OfVirtual threads = Thread.ofVirtual();
    private final RestartWindow intensityTimes = new RestartWindow();
    private int notReady;      // children that keep this supervisor from being ready
    private int active;        // children running, waiting to start or to restart, or not yet started
    private int pending;       // children waiting to start
    private boolean lastReady;
    private boolean cancelled;
    private RuntimeException escalation;
    private volatile long busySince;   // System.nanoTime() when a message began, 0 when idle

    SupervisorLoop(SupervisorImpl sup, Tree tree, Consumer<Boolean> readySink) {
        this.sup = sup;
        this.tree = tree;
        this.root = sup.isRoot();
        this.readySink = readySink;
    }

    /** Starts {@code order}, handles messages until cancelled, escalating or done, then stops the children. */
    void run(List<Child> order) {
        for (Child c : order) {
            c.countedNotReady = false;
            c.countedActive = false;
            c.pendingStart = false;
        }
        try {
            for (Child c : order) {
                if (c.removed) {
                    continue;
                }
                c.nextAttempt = 0;
                c.consecutiveRestarts = 0;
                c.restartTimes = null;
                c.ready = false;
                c.lastFailure = null;
                if (root && c.state != ServiceState.NEW) {
                    refresh(c);
                    continue; // the root runs once; a child stopped before start stays stopped
                }
                setPending(c, true);
                refresh(c);
            }
            startPending();
            publishReadiness();
            loop();
        } finally {
            stopAll();
            busySince = 0;
        }
    }

    /** Why the loop gave up, if it did: its supervisor's run throws it. */
    RuntimeException escalation() {
        return escalation;
    }

    boolean cancelled() {
        return cancelled;
    }

    long busyFor(long nowNanos) {
        long since = busySince;
        return since == 0 ? 0 : nowNanos - since;
    }

    // ---- work asked through the supervisor's calls, run on this loop's thread ----

    /** Stops one child for good. */
    void stop(Child c) {
        requestStop(c);
        finishStop(c, awaitStop(c));
    }

    /** Stops then starts one child at once. */
    void restartNow(Child c) {
        stop(c);
        if (c.run == null) {
            logInfo("restarting {} on request", c.path());
            startChild(c);
        }
    }

    /** Accounts for a child its supervisor has just forgotten. */
    void forget(Child c) {
        refresh(c);
    }

    /** Starts {@code c} (dependencies permitting) as soon as possible. */
    void startSoon(Child c) {
        setPending(c, true);
        refresh(c);
        startPending();
    }

    // ---- starting ----

    private void setPending(Child c, boolean value) {
        if (c.pendingStart != value) {
            c.pendingStart = value;
            pending += value ? 1 : -1;
        }
    }

    private void startPending() {
        if (pending == 0) {
            return;
        }
        Optional<Instant> now = null; // one timestamp for the children started by one message
        for (Child c : sup.childrenView()) {
            if (c.pendingStart && !cancelled && depsReady(c)) {
                if (now == null) {
                    now = Optional.of(tree.now());
                }
                startChild(c, now);
            }
        }
    }

    private boolean depsReady(Child c) {
        for (String d : c.dependencies()) {
            Child dep = sup.byNameUnlocked(d);
            if (dep != null && !(dep.run != null && dep.ready)) {
                return false;
            }
        }
        return true;
    }

    private void startChild(Child c) {
        startChild(c, Optional.of(tree.now()));
    }

    private void startChild(Child c, Optional<Instant> now) {
        Tree t = tree;
        setPending(c, false);
        c.freeze();
        int attempt = c.nextAttempt++;
        Run r = new Run(t, c, sup, c.path(), attempt);
        c.run = r;
        c.ready = false;
        c.startedAt = now;
        r.startedAt = now.get();
        Thread th = threads.name(c.path()).unstarted(r);
        r.thread = th;
        sup.liveRuns.incrementAndGet();
        boolean readyNow = c.readyOnStart();
        c.ready = readyNow;
        c.publish(ServiceState.RUNNING); // STARTING is not published: nobody could act on it
        th.start();
        logInfo("started {} (attempt {})", c.path(), attempt);
        if (t.bus.hasListeners()) {
            t.publish(new GovernorEvent.Started(c.path(), r.startedAt, attempt));
            if (readyNow) {
                t.publish(new GovernorEvent.Ready(c.path(), r.startedAt));
            }
        }
        refresh(c);
    }

    private void markReady(Child c) {
        c.ready = true;
        c.publish();
        tree.publish(new GovernorEvent.Ready(c.path(), tree.now()));
    }

    private void onReadyChanged(Child c, Run r, boolean ready) {
        if (c.run != r || r.stopRequested || c.ready == ready) {
            return;
        }
        if (ready) {
            logDebug("{} is ready", c.path());
            markReady(c);
        } else {
            c.ready = false;
            c.publish();
        }
        refresh(c);
        startPending();
    }

    // ---- readiness ----

    /** Recounts {@code c} in {@link #notReady} and tells the parent when this supervisor's readiness changes. */
    private void refresh(Child c) {
        boolean blocking = !c.removed && c.gatesReadiness() && (c.pendingStart || c.state == ServiceState.RESTARTING
                || (c.run != null && !c.run.stopRequested && !c.ready));
        if (blocking != c.countedNotReady) {
            c.countedNotReady = blocking;
            notReady += blocking ? 1 : -1;
        }
        boolean isActive = !c.removed && (c.run != null || c.pendingStart || !c.state.isTerminal());
        if (isActive != c.countedActive) {
            c.countedActive = isActive;
            active += isActive ? 1 : -1;
        }
        publishReadiness();
    }

    private void publishReadiness() {
        boolean ready = notReady == 0 && !cancelled;
        if (ready != lastReady) {
            lastReady = ready;
            readySink.accept(ready);
        }
    }

    // ---- a run ended ----

    private void onExit(Child c, Run r) {
        if (c.run != r) {
            return;
        }
        Tree t = tree;
        if (r.stopRequested) {
            if (r.unstopped) {  // a run reported unstopped ended late
                c.run = null;
                c.publish(ServiceState.STOPPED);
                t.publish(new GovernorEvent.Stopped(c.path(), t.now(), Duration.between(r.stopRequestedAt, r.endedAt)));
                refresh(c);
            }
            return;
        }
        c.run = null;
        c.ready = false;
        Throwable f = r.failure;
        Duration ran = Duration.between(r.startedAt, r.endedAt);
        RestartPolicy policy = c.effectivePolicy();
        policy.resetAfter().ifPresent(stable -> {
            if (ran.compareTo(stable) >= 0) {
                c.consecutiveRestarts = 0;
                if (c.restartTimes != null) {
                    c.restartTimes.clear();
                }
            }
        });
        StopServiceFinder.Found stop = StopServiceFinder.find(f);
        if (stop != null) {
            logInfo("{} stopped on purpose: {}", c.path(), stop.reason());
            c.publish(ServiceState.STOPPED);
            t.publish(new GovernorEvent.StoppedOnPurpose(c.path(), r.endedAt, stop.reason()));
        } else if (f instanceof VirtualMachineError fatal) {
            c.lastFailure = fatal;
            Tree.LOG.error("{} died of a fatal error; it is not restarted", c.path(), fatal);
            c.publish(ServiceState.FAILED);
            t.publish(new GovernorEvent.Failed(c.path(), r.endedAt, fatal));
            if (t.options.fatalErrorsShutDown()) {
                t.beginShutdown("fatal error in " + c.path() + ": " + fatal, t.options.fatalExitCode(), fatal);
            }
        } else if (f != null) {
            c.lastFailure = f;
            Tree.LOG.error("{} failed (attempt {})", c.path(), r.attempt(), f);
            c.publish();
            t.publish(new GovernorEvent.Failed(c.path(), r.endedAt, f));
            if (policy.restarts(true)) {
                restart(c, policy);
            } else {
                c.publish(ServiceState.FAILED);
            }
        } else {
            logInfo("{} completed", c.path());
            c.publish();
            t.publish(new GovernorEvent.Completed(c.path(), r.endedAt));
            if (policy.restarts(false)) {
                restart(c, policy);
            } else {
                c.publish(ServiceState.STOPPED);
            }
        }
        refresh(c);
        if (root && allEnded() && !t.shuttingDown()) {
            t.beginShutdown("every service has ended", 0, null);
        }
    }

    /** True when there is at least one child and none runs, waits to start or waits to restart. */
    private boolean allEnded() {
        return active == 0 && !sup.childrenView().isEmpty();
    }

    private void restart(Child c, RestartPolicy policy) {
        Tree t = tree;
        if (cancelled || t.shuttingDown()) {
            c.publish(ServiceState.STOPPED);
            return;
        }
        Instant now = t.now();
        if (policy.maxRestarts() > 0) {
            if (c.restartTimes == null) {
                c.restartTimes = new RestartWindow();
            }
            int made = c.restartTimes.count(now, policy.limitWindow());
            if (made >= policy.maxRestarts()) {
                c.publish(ServiceState.FAILED);
                escalate(c.path(), made, policy.limitWindow(), c.path() + " would restart more than "
                        + policy.maxRestarts() + " times within " + policy.limitWindow() + " (its limit)");
                return;
            }
            c.restartTimes.record(now);
        }
        if (sup.intensityMax() > 0) {
            int made = intensityTimes.count(now, sup.intensityWindow());
            if (made >= sup.intensityMax()) {
                c.publish(ServiceState.FAILED);
                escalate(sup.name(), made, sup.intensityWindow(), "supervisor \"" + sup.name() + "\" would restart its children more than "
                        + sup.intensityMax() + " times within " + sup.intensityWindow() + " (its intensity); last: " + c.path());
                return;
            }
            intensityTimes.record(now);
        }
        Duration delay = policy.delayFor(c.consecutiveRestarts++, jitterRandom(policy));
        List<Child> group = restartGroup(c).stream()
                .filter(s -> s == c || s.run != null || s.state == ServiceState.RESTARTING)
                .toList();
        for (int i = group.size() - 1; i >= 0; i--) {
            Child sibling = group.get(i);
            if (sibling != c && sibling.run != null) {
                requestStop(sibling);
                finishStop(sibling, awaitStop(sibling));
            }
        }
        Object token = new Object();
        List<Child> toRestart = new ArrayList<>(group.size());
        for (Child sibling : group) {
            if (sibling != c && sibling.effectivePolicy().mode() == RestartPolicy.Mode.NEVER) {
                continue; // temporary: stopped with its siblings, never started again
            }
            if (sibling.run != null) {
                continue; // would not stop in time: left alone
            }
            sibling.restartToken = token;
            sibling.publish(ServiceState.RESTARTING);
            refresh(sibling);
            toRestart.add(sibling);
            logInfo("restarting {} in {} ms", sibling.path(), delay.toMillis());
            t.publish(new GovernorEvent.Restarting(sibling.path(), now, delay));
        }
        Msg due = new Msg.RestartDue(List.copyOf(toRestart), token);
        if (delay.isZero()) {
            sup.post(due);
        } else {
            dev.governor.Scheduler.Cancellable timer = t.scheduler.schedule(delay, () -> sup.post(due));
            for (Child s : toRestart) {
                s.restartTimer = timer;
            }
        }
    }

    private static double jitterRandom(RestartPolicy policy) {
        return ThreadLocalRandom.current().nextDouble(-1.0, Math.nextUp(1.0));
    }

    private List<Child> restartGroup(Child c) {
        return switch (sup.strategy()) {
            case ONE_FOR_ONE -> List.of(c);
            case ONE_FOR_ALL -> sup.childrenView().stream().filter(ch -> !ch.removed).toList();
            case REST_FOR_ONE -> {
                List<Child> all = sup.childrenView();
                yield all.subList(all.indexOf(c), all.size()).stream().filter(ch -> !ch.removed).toList();
            }
        };
    }

    private void onRestartDue(List<Child> group, Object token) {
        if (cancelled || tree.shuttingDown()) {
            return;
        }
        for (Child c : group) {
            if (c.restartToken == token && c.state == ServiceState.RESTARTING) {
                c.restartToken = null;
                c.restartTimer = null;
                setPending(c, true);
                refresh(c);
            }
        }
        startPending();
    }

    private void escalate(String node, int restarts, Duration window, String why) {
        Tree t = tree;
        Tree.LOG.error("escalating: {}", why);
        t.publish(new GovernorEvent.Escalated(node, t.now(), restarts, window));
        EscalationException e = new EscalationException(why);
        if (root) {
            t.escalating = true;
            t.beginShutdown("escalation: " + why, t.options.escalationExitCode(), e);
        } else {
            escalation = e;
        }
    }

    // ---- stopping ----

    /** Cancels, calls Stoppable.stop() on its own thread, interrupts: the first half of a stop. */
    private void requestStop(Child c) {
        requestStop(c, tree.now());
    }

    private void requestStop(Child c, Instant now) {
        cancelRestart(c);
        Run r = c.run;
        if (r == null || r.stopRequested) {
            return;
        }
        r.stopRequested = true;
        r.stopRequestedAt = now;
        c.ready = false;
        c.publish(ServiceState.STOPPING);
        refresh(c);
        logDebug("stopping {}", c.path());
        r.cancel();
        Duration drain = Durations.min(c.drainTimeout(), tree.shutdownTimeLeft());
        if (drain.isZero() || drain.isNegative() || r.exited()) {
            forceStop(c, r);
        } else {  // the run may finish its in-flight work by itself for that long; then it is made to stop
            tree.scheduler.schedule(drain, () -> {
                if (!r.exited()) {
                    Tree.LOG.warn("{} did not finish draining within {} ms: stopping it", c.path(), drain.toMillis());
                    forceStop(c, r);
                }
            });
        }
    }

    /** Calls Stoppable.stop() on its own thread and interrupts the run: after the cancel (and the drain). */
    private void forceStop(Child c, Run r) {
        if (c.service instanceof Stoppable s && !r.exited()) {
            Thread.ofVirtual().name(c.path() + "/stop").start(() -> {
                try {
                    s.stop();
                } catch (Throwable e) {
                    Tree.LOG.warn("{}: Stoppable.stop() threw; stopping goes on", c.path(), e);
                }
            });
        }
        if (!c.isSupervisor() && !r.waitingOnCtx()) {  // a thread parked on its ctx was woken by cancel()
            Thread th = r.thread;
            if (th != null) {
                th.interrupt();
            }
        }
    }

    /** The second half of a stop: waits for the run within its timeout (and the shutdown's); true if it ended. */
    private boolean awaitStop(Child c) {
        Run r = c.run;
        if (r == null) {
            return true;
        }
        Duration timeout = stopTimeout(c);
        Deadline d = Deadline.after(tree.scheduler, timeout);
        try {
            return r.awaitExit(d);
        } finally {
            d.cancel();
        }
    }

    private Duration stopTimeout(Child c) {
        Duration own = c.stopTimeout(tree.options.serviceShutdownTimeout());
        if (own != null && !c.drainTimeout().isZero()) {
            own = Durations.plus(own, c.drainTimeout());
        }
        Duration left = tree.shutdownTimeLeft();
        if (left == null) {
            return own;
        }
        return own == null || left.compareTo(own) < 0 ? left : own;
    }

    private void finishStop(Child c, boolean ended) {
        finishStop(c, ended, tree.now());
    }

    private void finishStop(Child c, boolean ended, Instant now) {
        Run r = c.run;
        if (r == null) {
            return;
        }
        Tree t = tree;
        if (ended) {
            Duration took = Duration.between(r.stopRequestedAt, now);
            c.run = null;
            c.publish(ServiceState.STOPPED);
            logInfo("stopped {} in {} ms", c.path(), took.toMillis());
            t.recordStopTime(c.path(), took);
            if (t.bus.hasListeners()) {
                t.publish(new GovernorEvent.Stopped(c.path(), now, took));
            }
        } else {
            Duration waited = Duration.between(r.stopRequestedAt, now);
            r.unstopped = true;
            if (r.exited()) {  // it ended as the deadline passed: stopped after all
                finishStop(c, true, now);
                return;
            }
            Tree.LOG.warn("{} did not stop within {} ms: reported unstopped, going on", c.path(), waited.toMillis());
            t.recordUnstopped(c.path());
            t.publish(new GovernorEvent.StopTimedOut(c.path(), now, waited));
        }
        refresh(c);
    }

    private void cancelRestart(Child c) {
        if (c.restartTimer != null) {
            c.restartTimer.cancel();
            c.restartTimer = null;
        }
        c.restartToken = null;
        boolean wasWaiting = c.pendingStart || c.state == ServiceState.RESTARTING;
        setPending(c, false);
        if (wasWaiting && c.run == null) {
            c.publish(ServiceState.STOPPED);
        }
        refresh(c);
    }

    /** Stops every child in reverse start order (concurrently for a parallel-stop supervisor). */
    private void stopAll() {
        cancelled = true;
        List<Child> all = sup.childrenView();
        for (Child c : all) {
            if (c.state == ServiceState.NEW && c.run == null) {
                setPending(c, false);
                c.publish(ServiceState.STOPPED); // never started, and now never will in this incarnation
                refresh(c);
            }
        }
        if (all.isEmpty()) {
            return;
        }
        if (sup.isParallelStop()) {
            Instant requested = tree.now();
            for (int i = all.size() - 1; i >= 0; i--) {
                requestStop(all.get(i), requested);
            }
            Duration timeout = null;
            for (Child c : all) {
                if (c.run != null) {
                    Duration ct = stopTimeout(c);
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

    private void loop() {
        LinkedBlockingQueue<Msg> box = mailbox;
        while (true) {
            Msg m;
            try {
                m = box.take();
            } catch (InterruptedException e) {
                return;
            }
            busySince = System.nanoTime() | 1;
            try {
                switch (m) {
                    case Msg.Cancel c -> {
                        cancelled = true;
                        return;
                    }
                    case Msg.Exited e -> onExit(e.child(), e.run());
                    case Msg.ReadyChanged r -> onReadyChanged(r.child(), r.run(), r.ready());
                    case Msg.RestartDue r -> onRestartDue(r.group(), r.token());
                    case Msg.Call call -> SupervisorImpl.runCall(call);
                }
            } finally {
                busySince = 0;
            }
            if (escalation != null) {
                return;
            }
            if (!root && allEnded()) {
                return; // every child ended for good: this supervisor completes
            }
        }
    }

    /** Waits until no run of a child is alive or {@code d} passed. */
    private void awaitNoLiveRuns(Deadline d) {
        sup.allEndedWaiter = Thread.currentThread();
        try {
            while (sup.liveRuns.get() > 0 && !d.passed()) {
                java.util.concurrent.locks.LockSupport.park(sup);
            }
        } finally {
            sup.allEndedWaiter = null;
        }
    }

    private void logInfo(String fmt, Object a, Object b) {
        if (sup.isParallelStop()) {
            Tree.LOG.debug(fmt, a, b);
        } else {
            Tree.LOG.info(fmt, a, b);
        }
    }

    private void logInfo(String fmt, Object a) {
        if (sup.isParallelStop()) {
            Tree.LOG.debug(fmt, a);
        } else {
            Tree.LOG.info(fmt, a);
        }
    }

    private void logDebug(String fmt, Object a) {
        Tree.LOG.debug(fmt, a);
    }

    @Override
    public String toString() {
        return "SupervisorLoop[" + sup.name() + ", notReady=" + notReady + ", active=" + active + ", pending=" + pending
                + (cancelled ? ", cancelled" : "") + "]";
    }
}
