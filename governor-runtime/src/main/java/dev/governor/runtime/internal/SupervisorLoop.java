package dev.governor.runtime.internal;

import dev.governor.AutoShutdown;
import dev.governor.EscalationException;
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
    private final Consumer<Boolean> activeSink;
    private final Thread.Builder.OfVirtual threads = Thread.ofVirtual();
    private final RestartWindow intensityTimes = new RestartWindow();
    private final StopSequence stops;
    private int notReady;      // children that keep this supervisor from being ready
    private int active;        // children with a service running or to run: see isActive
    private boolean lastActive = true;
    private int pending;       // children waiting to start
    private boolean lastReady;
    private boolean cancelled;
    private RuntimeException escalation;
    private String autoShutdownReason;  // set when a significant child's end shuts this supervisor down
    private volatile Instant busySince;  // when the message in hand began, on the tree's clock; null when idle

    SupervisorLoop(SupervisorImpl sup, Tree tree, Consumer<Boolean> readySink, Consumer<Boolean> activeSink) {
        this.sup = sup;
        this.tree = tree;
        this.root = sup.isRoot();
        this.readySink = readySink;
        this.activeSink = activeSink;
        this.stops = new StopSequence(this, sup, tree);
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
                c.endedOnPurpose = false;
                if (root && c.state != ServiceState.NEW) {
                    refresh(c);
                    continue; // the root runs once; a child stopped before start stays stopped
                }
                Run old = c.run;
                if (old != null) {  // a run of the previous incarnation that would not stop
                    if (old.exited()) {
                        endLateRun(c, old);
                    } else {
                        Tree.LOG.warn("{} is still running from before {} restarted (it would not stop): "
                                + "it starts again only once that run ends", c.path(), sup.name());
                    }
                }
                setPending(c, true);
                refresh(c);
            }
            startPending();
            publishReadiness();
            afterMessage();
            loop();
        } finally {
            stopAll();
            busySince = null;
        }
    }

    /** Why the loop gave up, if it did: its supervisor's run throws it. */
    RuntimeException escalation() {
        return escalation;
    }

    /** When the message in hand began, on the tree's clock; null while the loop waits for one. */
    Instant busySince() {
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

    /** Everything that can happen to a running supervisor, one message each. */
    private void handle(Msg m) {
        switch (m) {
            case Msg.Exited e -> onExit(e.child(), e.run());
            case Msg.ReadyChanged r -> onReadyChanged(r.child(), r.run(), r.ready());
            case Msg.ActiveChanged a -> onActiveChanged(a.child(), a.run(), a.active());
            case Msg.RestartDue r -> onRestartDue(r.group(), r.token());
            case Msg.Cancel c -> cancelled = true;
            case Msg.StopChild s -> stopChild(s.child());
            case Msg.RestartChild r -> restartChild(r);
            case Msg.RemoveChild r -> removeChild(r.child());
            case Msg.StartChild s -> startAdded(s);
            case Msg.StartNewChildren s -> startNewChildren();
        }
    }

    /**
     * What an operation does while no loop runs (before the supervisor's first run, after it
     * ended, or asked as its loop ended): the one path for it, run by the caller under the
     * supervisor's lock. Nothing starts: a start waits for the supervisor's next run.
     */
    static void whileIdle(SupervisorImpl sup, Msg.Op op) {
        switch (op) {
            case Msg.StopChild s -> {
                Child c = s.child();
                if (!c.removed) {
                    withdrawStart(c);
                    if (c.state == ServiceState.NEW) {
                        c.publish(ServiceState.STOPPED);
                    }
                }
            }
            case Msg.RestartChild r ->
                throw new IllegalStateException(r.what() + ": supervisor \"" + sup.name() + "\" is not running");
            case Msg.RemoveChild r -> {
                Child c = r.child();
                if (!c.removed) {
                    withdrawStart(c);
                    forget(sup, c, null);
                }
            }
            case Msg.StartChild s -> {} // started with the others when the supervisor runs
            case Msg.StartNewChildren s -> {}
        }
    }

    /** Stops one child for good (it stays a child, STOPPED). */
    private void stopChild(Child c) {
        if (c.removed) {
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
        if (c.removed) {
            throw new IllegalArgumentException(op.what() + ": the child was removed meanwhile");
        }
        stop(c);
        if (c.run == null) {
            logInfo("restarting {} on request", c.path());
            startChild(c);
        }
    }

    private void removeChild(Child c) {
        if (c.removed) {
            return;
        }
        stop(c);
        forget(sup, c, this);
    }

    /** Takes {@code c} out of its supervisor's membership, its loop's counts (if it runs) and the tree's counts. */
    private static void forget(SupervisorImpl sup, Child c, SupervisorLoop loop) {
        sup.unlink(c);
        c.removed = true;
        if (loop != null) {
            loop.refresh(c);
        }
        uncountSubtree(c);
        Tree.LOG.info("removed {}", c.path());
    }

    private static void uncountSubtree(Child c) {
        c.uncount();
        if (c.service instanceof SupervisorImpl s) {
            for (Child g : s.childrenView()) {
                uncountSubtree(g);
            }
        }
    }

    /** Starts a child added while this supervisor runs (dependencies permitting) as soon as possible. */
    private void startAdded(Msg.StartChild op) {
        Child c = op.child();
        if (c.removed || c.run != null || c.state != ServiceState.NEW) {
            return;
        }
        List<String> missing = c.dependencies().stream().filter(d -> sup.child(d) == null).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("\"" + c.path() + "\" depends on unknown sibling(s) " + missing);
        }
        startSoon(c);
    }

    /** Starts every child still NEW. */
    private void startNewChildren() {
        for (Child c : sup.childrenView()) {
            if (c.state == ServiceState.NEW && c.run == null && !c.pendingStart) {
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
            if (c.pendingStart && !cancelled && c.run == null && depsReady(c)) {
                if (now == null) {
                    now = Optional.of(tree.now());
                }
                startChild(c, now);
            }
        }
    }

    private boolean depsReady(Child c) {
        for (String d : c.dependencies()) {
            Child dep = sup.child(d);
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
        c.endedOnPurpose = false;
        if (c.isSupervisor()) {
            c.subtreeActive = true;  // until its loop reports otherwise
        } else if (!t.serviceStarted) {
            t.serviceStarted = true;
        }
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
    void refresh(Child c) {
        boolean blocking = !c.removed && c.gatesReadiness() && (c.pendingStart || c.state == ServiceState.RESTARTING
                || (c.run != null && !c.run.stopRequested && !c.ready));
        if (blocking != c.countedNotReady) {
            c.countedNotReady = blocking;
            notReady += blocking ? 1 : -1;
        }
        boolean isActive = isActive(c);
        if (isActive != c.countedActive) {
            c.countedActive = isActive;
            active += isActive ? 1 : -1;
        }
        publishReadiness();
    }

    /**
     * A child that keeps this subtree alive for the governor's natural end: a service running, or
     * waiting to start or to restart (or added and not started); a supervisor waiting to start or
     * to restart, or running with such a service somewhere below it. A running supervisor whose
     * services have all ended does not count: supervisors stay up, but only services keep the
     * process alive.
     */
    private static boolean isActive(Child c) {
        if (c.removed) {
            return false;
        }
        if (c.run != null) {
            return !c.isSupervisor() || c.subtreeActive;
        }
        return c.pendingStart || !c.state.isTerminal();
    }

    /**
     * After each message: the root checks for its natural end; a nested supervisor tells its
     * parent whether its subtree is still active. Nothing is reported once this incarnation is
     * ending (cancelled, escalating, shutting itself down): its parent learns of the end itself.
     */
    private void afterMessage() {
        if (cancelled || escalation != null || autoShutdownReason != null) {
            return;
        }
        boolean isActive = active > 0;
        if (root) {
            Tree t = tree;
            if (!isActive && t.serviceStarted && !t.shuttingDown() && !t.syncReloading) {
                long failed = t.count(ServiceState.FAILED);
                if (failed == 0) {
                    t.beginShutdown("every service has ended", 0, null);
                } else {
                    t.beginShutdown("every service has ended, " + failed + " of them (or their supervisors) failed",
                            t.options.escalationExitCode(), null);
                }
            }
        } else if (isActive != lastActive) {
            lastActive = isActive;
            activeSink.accept(isActive);
        }
    }

    private void onActiveChanged(Child c, Run r, boolean isActive) {
        if (c.run != r) {
            return;
        }
        c.subtreeActive = isActive;
        refresh(c);
    }

    private void publishReadiness() {
        boolean ready = notReady == 0 && !cancelled;
        if (ready != lastReady) {
            lastReady = ready;
            readySink.accept(ready);
        }
    }

    // ---- a run ended ----

    private enum Outcome { COMPLETED, ON_PURPOSE, FAILED, FATAL }

    private void onExit(Child c, Run r) {
        if (c.run != r) {
            return;
        }
        Tree t = tree;
        if (r.stopRequested) {
            if (r.unstopped) {  // a run reported unstopped ended late
                endLateRun(c, r);
                refresh(c);
                startPending(); // a new incarnation may have been waiting for it
            }
            return;
        }
        c.run = null;
        c.ready = false;
        Duration ran = Duration.between(r.startedAt, r.endedAt);
        RestartPolicy policy = c.effectivePolicy();
        if (RestartDecision.stable(policy, ran)) {
            c.consecutiveRestarts = 0;
            if (c.restartTimes != null) {
                c.restartTimes.clear();
            }
        }
        Outcome outcome = report(c, r, r.endedAt, false);
        boolean forGood = true;
        switch (outcome) {
            case ON_PURPOSE -> c.publish(ServiceState.STOPPED);
            case FATAL -> c.publish(ServiceState.FAILED);
            case FAILED -> {
                if (policy.restarts(true)) {
                    forGood = !restart(c, policy);
                } else {
                    c.publish(ServiceState.FAILED);
                }
            }
            case COMPLETED -> {
                if (policy.restarts(false)) {
                    forGood = !restart(c, policy);
                } else {
                    c.publish(ServiceState.STOPPED);
                }
            }
        }
        refresh(c);
        if (forGood && escalation == null && !root && c.significant()) {
            checkAutoShutdown(c);
        }
    }

    /**
     * Logs and publishes how a run that ended by itself ended (the same whether its supervisor
     * noticed at once or only when it came to stop it), and records its failure.
     */
    private Outcome report(Child c, Run r, Instant at, boolean beingStopped) {
        Tree t = tree;
        Throwable f = r.failure;
        String during = beingStopped ? " before its stop was requested" : "";
        StopServiceFinder.Found stop = StopServiceFinder.find(f);
        if (stop != null) {
            c.endedOnPurpose = true;
            logInfo("{} stopped on purpose: {}", c.path(), stop.reason());
            t.publish(new GovernorEvent.StoppedOnPurpose(c.path(), at, stop.reason()));
            return Outcome.ON_PURPOSE;
        }
        if (f instanceof VirtualMachineError fatal) {
            c.lastFailure = fatal;
            c.publish();
            Tree.LOG.error("{} died of a fatal error{}; it is not restarted", c.path(), during, Untrusted.loggable(fatal));
            t.publish(new GovernorEvent.Failed(c.path(), at, fatal));
            if (t.options.fatalErrorsShutDown()) {
                t.beginShutdown("fatal error in " + c.path() + ": " + Untrusted.describe(fatal), t.options.fatalExitCode(), fatal);
            }
            return Outcome.FATAL;
        }
        if (f != null) {
            c.lastFailure = f;
            c.publish();
            Tree.LOG.error("{} failed (attempt {}){}", c.path(), r.attempt(), during, Untrusted.loggable(f));
            t.publish(new GovernorEvent.Failed(c.path(), at, f));
            return Outcome.FAILED;
        }
        if (beingStopped) {
            logInfo("{} completed{}", c.path(), during);
        } else {
            logInfo("{} completed", c.path());
        }
        c.publish();
        t.publish(new GovernorEvent.Completed(c.path(), at));
        return Outcome.COMPLETED;
    }

    /** A run reported unstopped (or left over from the previous incarnation) has ended at last. */
    private void endLateRun(Child c, Run r) {
        c.run = null;
        c.ready = false;
        c.publish(ServiceState.STOPPED);
        Instant now = tree.now();
        logInfo("{} ended at last, {} ms after its stop was requested", c.path(),
                Duration.between(r.stopRequestedAt, now).toMillis());
        tree.publish(new GovernorEvent.Stopped(c.path(), now, Duration.between(r.stopRequestedAt, now)));
    }

    /** OTP's auto_shutdown: a significant child ended by itself for good. */
    private void checkAutoShutdown(Child c) {
        AutoShutdown mode = sup.autoShutdownMode();
        if (mode == AutoShutdown.NEVER) {
            return;
        }
        if (mode == AutoShutdown.ALL_SIGNIFICANT) {
            for (Child s : sup.childrenView()) {
                if (s != c && s.significant() && isActive(s)) {
                    return;
                }
            }
        }
        autoShutdownReason = "significant child " + c.path() + " ended (autoShutdown " + mode + ")";
        Tree.LOG.info("supervisor \"{}\" shuts down: {}", sup.name(), autoShutdownReason);
    }

    /** Restarts {@code c} (and its group) by {@code policy}; false if it will not run again. */
    private boolean restart(Child c, RestartPolicy policy) {
        Tree t = tree;
        if (cancelled || t.shuttingDown()) {
            c.publish(ServiceState.STOPPED);
            return false;
        }
        Instant now = t.now();
        RestartDecision.Verdict verdict = RestartDecision.decide(c.path(), policy, c.restartTimes, c.consecutiveRestarts,
                sup.name(), sup.intensityMax(), sup.intensityWindow(), intensityTimes, now, jitterRandom());
        if (verdict instanceof RestartDecision.Escalate e) {
            c.publish(ServiceState.FAILED);
            escalate(c, e.restarts(), e.window(), e.why());
            return false;
        }
        Duration delay = ((RestartDecision.Restart) verdict).delay();
        if (policy.maxRestarts() > 0) {
            if (c.restartTimes == null) {
                c.restartTimes = new RestartWindow();
            }
            c.restartTimes.record(now);
        }
        if (sup.intensityMax() >= 0) {
            intensityTimes.record(now);
        }
        c.consecutiveRestarts++;
        List<Child> group = RestartDecision.group(sup.strategy(), sup.childrenView(), c, SupervisorLoop::sibling);
        for (int i = group.size() - 1; i >= 0; i--) {
            Child sibling = group.get(i);
            if (sibling != c && sibling.run != null) {
                stops.requestStop(sibling);
                stops.finishStop(sibling, stops.awaitStop(sibling));
            }
        }
        RestartGroup token = new RestartGroup();
        List<Child> toRestart = new ArrayList<>(group.size());
        for (Child sibling : group) {
            if (!RestartDecision.startsAgain(sibling(sibling), sibling == c)) {
                continue;
            }
            if (sibling.restartGroup != null) {
                sibling.restartGroup.leave(); // it was waiting for an earlier restart: this one replaces it
            }
            sibling.restartGroup = token;
            token.waiting++;
            toRestart.add(sibling);
        }
        // the timer is set before anything of the restart is visible: whoever sees RESTARTING (a test
        // advancing a virtual clock, say) finds the restart already due at now + delay
        Msg due = new Msg.RestartDue(List.copyOf(toRestart), token);
        if (delay.isZero()) {
            sup.post(due);
        } else {
            token.timer = t.scheduler.schedule(delay, () -> sup.post(due));
        }
        for (Child sibling : toRestart) {
            sibling.publish(ServiceState.RESTARTING);
            refresh(sibling);
            logInfo("restarting {} in {} ms", sibling.path(), delay.toMillis());
            t.publish(new GovernorEvent.Restarting(sibling.path(), now, delay));
        }
        return true;
    }

    private static double jitterRandom() {
        return ThreadLocalRandom.current().nextDouble(-1.0, Math.nextUp(1.0));
    }

    private static RestartDecision.Sibling sibling(Child c) {
        return new RestartDecision.Sibling(c.removed, c.run != null, c.state == ServiceState.RESTARTING,
                c.effectivePolicy().mode() == RestartPolicy.Mode.NEVER, c.endedOnPurpose);
    }

    private void onRestartDue(List<Child> group, RestartGroup token) {
        if (cancelled || tree.shuttingDown()) {
            return;
        }
        token.timer = null;
        for (Child c : group) {
            if (c.restartGroup == token && c.state == ServiceState.RESTARTING) {
                c.restartGroup = null;
                setPending(c, true);
                refresh(c);
            }
        }
        startPending();
    }

    /** This supervisor gives up: restarting {@code tipping} would exceed a limit. */
    private void escalate(Child tipping, int restarts, Duration window, String why) {
        Tree t = tree;
        Tree.LOG.error("escalating: {}", why);
        t.publish(new GovernorEvent.Escalated(sup.name(), t.now(), restarts, window, tipping.path()));
        EscalationException e = new EscalationException(why, sup.name(), tipping.path(), restarts, window);
        if (root) {
            t.escalating = true;
            t.beginShutdown("escalation: " + why, t.options.escalationExitCode(), e);
        } else {
            escalation = e;
        }
    }

    /**
     * A run that ended by itself just before its supervisor came to stop it (its Exited message
     * still queued): its real outcome is reported, and it is not restarted by its own policy.
     */
    void endedBeforeStop(Child c, Run r, Instant now) {
        c.run = null;
        c.ready = false;
        Outcome outcome = report(c, r, now, true);
        c.publish(outcome == Outcome.FAILED || outcome == Outcome.FATAL ? ServiceState.FAILED : ServiceState.STOPPED);
        tree.recordStopTime(c.path(), Duration.ZERO);
        refresh(c);
    }

    void cancelRestart(Child c) {
        if (withdrawStart(c)) {
            pending--;
        }
        refresh(c);
    }

    /**
     * Takes {@code c} out of a pending start or restart (the rest of its restart group still
     * restarts when the delay runs out); true if it was counted as pending a start.
     */
    static boolean withdrawStart(Child c) {
        RestartGroup g = c.restartGroup;
        if (g != null) {
            c.restartGroup = null;
            g.leave();
        }
        boolean wasPending = c.pendingStart;
        boolean wasWaiting = wasPending || c.state == ServiceState.RESTARTING;
        c.pendingStart = false;
        if (wasWaiting && c.run == null) {
            c.publish(ServiceState.STOPPED);
        }
        return wasPending;
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
        stops.stopAll(all);
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
            busySince = tree.now();
            try {
                dispatch(m);
                if (cancelled) {
                    return;
                }
                afterMessage();
            } finally {
                busySince = null;
            }
            if (escalation != null || autoShutdownReason != null) {
                return;
            }
        }
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

    private void logDebug(String fmt, Object a) {
        Tree.LOG.debug(fmt, a);
    }

    @Override
    public String toString() {
        return "SupervisorLoop[" + sup.name() + ", notReady=" + notReady + ", active=" + active + ", pending=" + pending
                + (cancelled ? ", cancelled" : "") + "]";
    }
}
