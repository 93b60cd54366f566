package dev.governor.runtime.internal;

import dev.governor.AutoShutdown;
import dev.governor.EscalationException;
import dev.governor.GovernorEvent;
import dev.governor.RestartPolicy;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a supervisor loop does when a run of a child ends: reports how it ended, applies the
 * child's policy (the arithmetic is {@link RestartDecision}'s), stops and schedules the restart
 * of the siblings its strategy takes along, escalates past a limit, and notices a significant
 * child's end (auto-shutdown). Part of the loop: runs on its thread only.
 */
final class EndOfRun {
    private final SupervisorLoop loop;
    private final SupervisorImpl sup;
    private final Tree tree;
    private final boolean root;
    private final ChildCounts counts;
    private final RestartWindow intensityTimes = new RestartWindow();
    private final LateReports lateReports;
    private final TakeOver takeOver;
    private RuntimeException escalation;
    private String autoShutdownReason; // set when a significant child's end shuts this supervisor down

    EndOfRun(SupervisorLoop loop, SupervisorImpl sup, Tree tree, ChildCounts counts) {
        this.loop = loop;
        this.counts = counts;
        this.sup = sup;
        this.tree = tree;
        this.root = sup.isRoot();
        this.lateReports = new LateReports(sup.name());
        this.takeOver = new TakeOver(loop, tree);
    }

    /** The loop ends, every child stopped: the sweep of late reports ends too. */
    void loopEnded() {
        lateReports.close();
    }

    /** Why this supervisor gives up, if it does (a nested one: its run throws it). */
    RuntimeException escalation() {
        return escalation;
    }

    /** Whether this incarnation ends: escalating, or shutting itself down after a significant child's end. */
    boolean ending() {
        return escalation != null || autoShutdownReason != null;
    }

    private enum Outcome {
        COMPLETED,
        ON_PURPOSE,
        FAILED,
        FATAL
    }

    void onExit(Child c, Run r, Handoff.Open open) {
        Run next = r.successor();
        Mailbox box = loop.mailbox; // the next reports of the same chain, queued right behind: one batch
        for (Msg m; next != null && (m = box.peek()) instanceof Msg.Exited e && e.run() == next; ) {
            box.skip();
            r = next;
            next = r.successor();
        }
        takeOver.upTo(c, next != null ? next : r); // r may have started its successor, or be one itself
        if (next != null && c.run == next && open != null) {
            open.adopted = r.attempt() + 1; // its successors may again run up to K ahead of the loop
            lateReports.watch(open); // a chain restarting on its own threads wakes the loop once per BATCH
        }
        if (c.run != r) {
            return;
        }
        if (r.stopRequested()) {
            if (r.unstopped) { // a run reported unstopped ended late
                endLateRun(c, r);
                loop.refresh(c);
                loop.startPending(); // a new incarnation may have been waiting for it
            }
            return;
        }
        c.run = null;
        c.ready(false);
        Duration ran = Duration.between(r.startedAt, r.endedAt);
        RestartPolicy policy = c.effectivePolicy();
        if (RestartDecision.stable(policy, ran)) {
            c.ranStably();
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
        loop.refresh(c);
        if (forGood && escalation == null && !root && c.significant()) {
            checkAutoShutdown(c);
        }
    }

    // ---- zero-delay restarts decided on the ending run's own thread (Handoff) ----

    /**
     * Whether a failure of {@code c}'s run may restart at once on the run's own thread: its
     * supervisor restarts one for one without intensity, its policy restarts a failure with no
     * delay and no limit, it depends on no sibling and is no supervisor. The ending thread checks
     * the policy and intensity again (both may change), and a stop closes the slot first.
     */
    boolean restartsOnEnd(Child c) {
        return !c.isSupervisor()
                && sup.strategy() == Strategy.ONE_FOR_ONE
                && sup.intensityMax() < 0
                && c.dependencies().isEmpty()
                && Handoff.restartsAtOnce(c.effectivePolicy());
    }

    /**
     * Before a message about {@code target}, one of {@code c}'s runs, is handled: takes over the runs
     * that {@code c}'s runs started on their own threads up to {@code target}, if it is one of them
     * (else it is a run of the past, and nothing changes). A message about a run is thus handled with
     * that run in {@code c.run}, as it would have been had the loop started it: its readiness comes
     * after its start and before its end, every time. Readiness is told once for all of it.
     */
    void takeOverUpTo(Child c, Run target, boolean cancelled) {
        Run r = c.run;
        if (r == null || r == target || r.successor() == null) {
            return;
        }
        counts.hold();
        try {
            takeOver.upTo(c, target);
        } finally {
            counts.release(cancelled);
        }
    }

    /**
     * For a stop: takes over every run that {@code c}'s runs started and closes the last one's slot,
     * so that none can follow. Not within {@link #onExit}, whose own hold would be released here (no
     * stop of a child with a slot is requested there: slots are one-for-one's).
     */
    void closeHandoff(Child c, boolean cancelled) {
        Run r = c.run;
        if (r == null || r.closeHandoff()) {
            return;
        }
        counts.hold();
        try {
            takeOver.closing(c);
        } finally {
            counts.release(cancelled);
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
            c.endedOnPurpose(true);
            loop.logInfo("{} stopped on purpose: {}", c.path(), stop.reason());
            t.publish(new GovernorEvent.StoppedOnPurpose(c.path(), at, stop.reason()));
            return Outcome.ON_PURPOSE;
        }
        if (f instanceof VirtualMachineError fatal) {
            c.lastFailure(fatal);
            c.publish();
            Tree.LOG.error(
                    "{} died of a fatal error{}; it is not restarted", c.path(), during, Untrusted.loggable(fatal));
            t.publish(new GovernorEvent.Failed(c.path(), at, fatal));
            if (t.options.fatalErrorsShutDown()) {
                t.beginShutdown(
                        "fatal error in " + c.path() + ": " + Untrusted.describe(fatal),
                        t.options.fatalExitCode(),
                        fatal);
            }
            return Outcome.FATAL;
        }
        if (f != null) {
            c.lastFailure(f);
            c.publish();
            if (Tree.LOG.isErrorEnabled()) {
                Tree.LOG.error("{} failed (attempt {}){}", c.path(), r.attempt(), during, Untrusted.loggable(f));
            }
            if (t.bus.hasListeners()) {
                t.publish(new GovernorEvent.Failed(c.path(), at, f));
            }
            return Outcome.FAILED;
        }
        if (beingStopped) {
            loop.logInfo("{} completed{}", c.path(), during);
        } else {
            loop.logInfo("{} completed", c.path());
        }
        c.publish();
        t.publish(new GovernorEvent.Completed(c.path(), at));
        return Outcome.COMPLETED;
    }

    /** A run reported unstopped (or left over from the previous incarnation) has ended at last. */
    void endLateRun(Child c, Run r) {
        c.run = null;
        c.ready(false);
        c.publish(ServiceState.STOPPED);
        Instant now = tree.now();
        loop.logInfo(
                "{} ended at last, {} ms after its stop was requested",
                c.path(),
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
                if (s != c && s.significant() && SupervisorLoop.isActive(s)) {
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
        if (loop.cancelled() || t.shuttingDown()) {
            c.publish(ServiceState.STOPPED);
            return false;
        }
        Instant now = t.now();
        RestartDecision.Verdict verdict = RestartDecision.decide(
                c.path(),
                policy,
                c.restartTimes(),
                c.consecutiveRestarts(),
                sup.name(),
                sup.intensityMax(),
                sup.intensityWindow(),
                intensityTimes,
                now,
                jitterRandom());
        if (verdict instanceof RestartDecision.Escalate e) {
            c.publish(ServiceState.FAILED);
            escalate(c, e.restarts(), e.window(), e.why());
            return false;
        }
        Duration delay = ((RestartDecision.Restart) verdict).delay();
        if (policy.maxRestarts() > 0) {
            if (c.restartTimes() == null) {
                c.restartTimes(new RestartWindow());
            }
            c.restartTimes().record(now);
        }
        if (sup.intensityMax() >= 0) {
            intensityTimes.record(now);
        }
        c.consecutiveRestarts(c.consecutiveRestarts() + 1);
        List<Child> group = RestartDecision.group(sup.strategy(), sup.childrenView(), c, EndOfRun::sibling);
        for (int i = group.size() - 1; i >= 0; i--) {
            Child sibling = group.get(i);
            if (sibling != c && sibling.run != null) {
                loop.stops.requestStop(sibling);
                loop.stops.finishStop(sibling, loop.stops.awaitStop(sibling));
            }
        }
        RestartGroup token = new RestartGroup();
        List<Child> toRestart = new ArrayList<>(group.size());
        for (Child sibling : group) {
            if (!RestartDecision.startsAgain(sibling(sibling), sibling == c)) {
                continue;
            }
            if (sibling.restartGroup() != null) {
                sibling.restartGroup().leave(); // it was waiting for an earlier restart: this one replaces it
            }
            sibling.restartGroup(token);
            token.waiting++;
            toRestart.add(sibling);
        }
        boolean atOnce = delay.isZero();
        if (!atOnce) {
            // the timer is set before anything of the restart is visible: whoever sees RESTARTING (a test
            // advancing a virtual clock, say) finds the restart already due at now + delay
            Msg due = new Msg.RestartDue(List.copyOf(toRestart), token);
            token.timer = t.scheduler.schedule(delay, () -> sup.post(due));
        }
        boolean logged = loop.logsStarts();
        for (Child sibling : toRestart) {
            sibling.publish(ServiceState.RESTARTING);
            loop.refresh(sibling);
            if (logged) {
                loop.logInfo("restarting {} in {} ms", sibling.path(), delay.toMillis());
            }
            if (t.bus.hasListeners()) {
                t.publish(new GovernorEvent.Restarting(sibling.path(), now, delay));
            }
        }
        if (atOnce) { // no delay: started in this same message, after its Restarting events, as the timer would
            loop.restartNow(toRestart, token);
        }
        return true;
    }

    private static double jitterRandom() {
        return ThreadLocalRandom.current().nextDouble(-1.0, Math.nextUp(1.0));
    }

    private static RestartDecision.Sibling sibling(Child c) {
        return new RestartDecision.Sibling(
                c.removed(),
                c.run != null,
                c.state() == ServiceState.RESTARTING,
                c.effectivePolicy().mode() == RestartPolicy.Mode.NEVER,
                c.endedOnPurpose());
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
        c.ready(false);
        Outcome outcome = report(c, r, now, true);
        c.publish(outcome == Outcome.FAILED || outcome == Outcome.FATAL ? ServiceState.FAILED : ServiceState.STOPPED);
        tree.recordStopTime(c.path(), Duration.ZERO);
        loop.refresh(c);
    }

    @Override
    public String toString() {
        return "EndOfRun[" + sup.name() + (escalation != null ? ", escalating" : "")
                + (autoShutdownReason != null ? ", " + autoShutdownReason : "") + "]";
    }
}
