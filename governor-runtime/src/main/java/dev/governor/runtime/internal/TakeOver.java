package dev.governor.runtime.internal;

import dev.governor.GovernorEvent;
import dev.governor.ServiceState;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The loop's side of {@link Handoff}: takes over the runs that a child's runs started on their own
 * threads, doing what {@link EndOfRun#onExit} and a restart with no delay would have done for each
 * failure, with the instant its ending thread took for the end, the decision and the start. A batch
 * (up to {@link Handoff.Open#BATCH} runs and more) is taken over as one message: the child's state
 * changes run by run, its snapshot is published once, as it ends (RUNNING to RUNNING: nobody could
 * see it RESTARTING in between), and then each run's {@code Failed} → {@code Restarting} →
 * {@code Started} (→ {@code Ready}) are logged and told in order, after the state they tell of.
 * Part of the loop: runs on its thread only.
 */
final class TakeOver {
    private final SupervisorLoop loop;
    private final Tree tree;

    TakeOver(SupervisorLoop loop, Tree tree) {
        this.loop = loop;
        this.tree = tree;
    }

    /** Takes over {@code c}'s runs up to {@code target} if it is one its runs started (else nothing changes). */
    void upTo(Child c, Run target) {
        Run first = c.run;
        if (first == null) {
            return;
        }
        for (Run x = first.successor(); x != null; x = x.successor()) {
            if (x == target) {
                take(c, first, target);
                return;
            }
        }
    }

    /** For a stop: takes over every run {@code c}'s runs started and closes the last one's slot. */
    void closing(Child c) {
        Run r;
        while ((r = c.run) != null && !r.closeHandoff()) {
            Run last = r.successor();
            for (Run x; (x = last.successor()) != null; ) {
                last = x;
            }
            take(c, r, last);
        }
    }

    /** The runs from {@code first} ({@code c.run}) to the one before {@code last} failed; {@code last} runs. */
    private void take(Child c, Run first, Run last) {
        Optional<Duration> stableAfter = c.effectivePolicy().resetAfter();
        Run failed = first;
        for (Run r = first; r != last; r = r.successor()) {
            if (stableAfter.isPresent()
                    && Duration.between(r.startedAt, r.endedAt).compareTo(stableAfter.get()) >= 0) {
                c.ranStably(); // as RestartDecision.stable, with resetAfter read once for the batch
            }
            c.consecutiveRestarts(c.consecutiveRestarts() + 1);
            failed = r;
        }
        // a failure, as decided on the ending thread (a lying cause chain changes nothing)
        c.lastFailure(failed.failure);
        c.nextAttempt = failed.attempt() + 2; // last's attempt + 1, read from failed: last's fields are hot on its core
        c.run = last;
        c.endedOnPurpose(false);
        boolean readyNow = c.readyOnStart();
        c.ready(readyNow);
        c.publishStarted(ServiceState.RUNNING, Optional.of(failed.endedAt));
        loop.refresh(c);
        boolean errors = Tree.LOG.isErrorEnabled();
        boolean told = tree.bus.hasListeners();
        boolean logged = loop.logsStarts();
        if (errors || told || logged) {
            tell(c.path(), first, last, readyNow, errors, told, logged);
        }
    }

    private void tell(
            String path, Run first, Run last, boolean readyNow, boolean errors, boolean told, boolean logged) {
        Tree t = tree;
        for (Run r = first; r != last; r = r.successor()) {
            Instant at = r.endedAt;
            int attempt = r.attempt() + 1;
            if (errors) {
                Tree.LOG.error("{} failed (attempt {})", path, r.attempt(), Untrusted.loggable(r.failure));
            }
            if (told) {
                t.publish(new GovernorEvent.Failed(path, at, r.failure));
            }
            if (logged) {
                loop.logInfo("restarting {} in {} ms", path, 0L);
            }
            if (told) {
                t.publish(new GovernorEvent.Restarting(path, at, Duration.ZERO));
            }
            if (logged) {
                loop.logInfo("started {} (attempt {})", path, attempt);
            }
            if (told) {
                t.publish(new GovernorEvent.Started(path, at, attempt));
                if (readyNow) {
                    t.publish(new GovernorEvent.Ready(path, at));
                }
            }
        }
    }

    @Override
    public String toString() {
        return "TakeOver[" + loop + "]";
    }
}
