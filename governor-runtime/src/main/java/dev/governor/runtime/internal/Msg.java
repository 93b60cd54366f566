package dev.governor.runtime.internal;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What a supervisor loop is told; it alone acts on its children. Read with
 * {@link SupervisorLoop#handle}, whose switch over these records is the complete list of what a
 * supervisor does.
 */
sealed interface Msg {
    // ---- from the children's runs and the loop's own timers ----

    /**
     * A run ended (on its own, or after a stop the loop already handled); {@code open}: the slot
     * it started its successor through on its own thread (the loop marks the successor taken over
     * in it), else null.
     */
    record Exited(Child child, Run run, Handoff.Open open) implements Msg {}

    /** A run declared itself ready, or a nested supervisor's readiness changed. */
    record ReadyChanged(Child child, Run run, boolean ready) implements Msg {}

    /** A nested supervisor's subtree now has (or no longer has) a service running or to run. */
    record ActiveChanged(Child child, Run run, boolean active) implements Msg {}

    /** A restart delay ran out for {@code group}; stale for a child that no longer holds {@code token}. */
    record RestartDue(List<Child> group, RestartGroup token) implements Msg {}

    /** The loop's context was cancelled: stop the children and return. */
    record Cancel() implements Msg {}

    // ---- asked by other threads (users, reloads); each completes done once handled ----

    /** An operation another thread asked for; {@code done} completes after it (exceptionally if refused). */
    sealed interface Op extends Msg {
        CompletableFuture<Void> done();

        /** How the caller named it, for errors: {@code stopChild("db")}. */
        String what();
    }

    /** Supervisor.stopChild: stop {@code child} for good (it stays a child, STOPPED). */
    record StopChild(Child child, CompletableFuture<Void> done) implements Op {
        public String what() {
            return "stopChild(\"" + child.name() + "\")";
        }
    }

    /** Supervisor.restartChild: stop {@code child}, then start it again at once. */
    record RestartChild(Child child, CompletableFuture<Void> done) implements Op {
        public String what() {
            return "restartChild(\"" + child.name() + "\")";
        }
    }

    /** Supervisor.removeChild: stop {@code child} and forget it. */
    record RemoveChild(Child child, CompletableFuture<Void> done) implements Op {
        public String what() {
            return "removeChild(\"" + child.name() + "\")";
        }
    }

    /** ServiceConfig.start(): start {@code child}, added while the supervisor runs (a new generation, say). */
    record StartChild(Child child, CompletableFuture<Void> done) implements Op {
        public String what() {
            return "start(\"" + child.name() + "\")";
        }
    }

    /** Governor.start() called again: start every child still NEW. */
    record StartNewChildren(CompletableFuture<Void> done) implements Op {
        public String what() {
            return "start()";
        }
    }
}
