package dev.governor.runtime.internal;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** What a supervisor loop is told; it alone acts on its children. */
sealed interface Msg {
    /** A run ended (on its own, or after a stop the loop already handled). */
    record Exited(Child child, Run run) implements Msg {}

    /** A run declared itself ready, or a nested supervisor's readiness changed. */
    record ReadyChanged(Child child, Run run, boolean ready) implements Msg {}

    /** A restart delay ran out for {@code group}; stale for a child that no longer holds {@code token}. */
    record RestartDue(List<Child> group, RestartGroup token) implements Msg {}

    /** A nested supervisor's subtree now has (or no longer has) a service running or to run. */
    record ActiveChanged(Child child, Run run, boolean active) implements Msg {}

    /** Work asked by another thread (add-start, stop, restart, remove); {@code done} completes after it. */
    record Call(String what, Runnable op, CompletableFuture<Void> done) implements Msg {}

    /** The loop's context was cancelled: stop the children and return. */
    record Cancel() implements Msg {}
}
