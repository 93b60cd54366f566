package dev.governor.runtime.internal;

import dev.governor.ServiceState;
import java.util.function.Consumer;

/**
 * A supervisor loop's counts of its children (not ready, active, waiting to start) and what they
 * tell the outside: this supervisor's readiness to its parent, its subtree's activity to its
 * parent, and, at the root, the governor's natural end once no service is left to run. Each
 * child remembers whether it is counted, so a recount is exact. Loop thread only.
 */
final class ChildCounts {
    private final boolean root;
    private final Tree tree;
    private final Consumer<Boolean> readySink;
    private final Consumer<Boolean> activeSink;
    private int notReady; // children that keep this supervisor from being ready
    private int active; // children with a service running or to run: see isActive
    private int pending; // children waiting to start
    private boolean lastActive = true;
    private boolean lastReady;
    private boolean held; // within a message whose readiness is told once, at its end

    ChildCounts(SupervisorImpl sup, Tree tree, Consumer<Boolean> readySink, Consumer<Boolean> activeSink) {
        this.root = sup.isRoot();
        this.tree = tree;
        this.readySink = readySink;
        this.activeSink = activeSink;
    }

    void setPending(Child c, boolean value) {
        if (c.pendingStart() != value) {
            c.pendingStart(value);
            pending += value ? 1 : -1;
        }
    }

    boolean anyPending() {
        return pending > 0;
    }

    /** A child counted as pending was taken out of its pending start (IdleOperations.withdrawStart). */
    void withdrew() {
        pending--;
    }

    /** Recounts {@code c} in {@link #notReady} and tells the parent when this supervisor's readiness changes. */
    void refresh(Child c, boolean cancelled) {
        boolean blocking = !c.removed()
                && c.gatesReadiness()
                && (c.pendingStart()
                        || c.state() == ServiceState.RESTARTING
                        || (!c.ready() && c.run != null && !c.run.stopRequested()));
        if (blocking != c.countedNotReady()) {
            c.countedNotReady(blocking);
            notReady += blocking ? 1 : -1;
        }
        boolean isActive = isActive(c);
        if (isActive != c.countedActive()) {
            c.countedActive(isActive);
            active += isActive ? 1 : -1;
        }
        if (!held) {
            publishReadiness(cancelled);
        }
    }

    /**
     * Until {@link #release}, recounts do not tell the parent: it hears the outcome once. Returns
     * false when a hold was in place already: only the outermost holder releases.
     */
    boolean hold() {
        if (held) {
            return false;
        }
        held = true;
        return true;
    }

    void release(boolean cancelled) {
        held = false;
        publishReadiness(cancelled);
    }

    /**
     * A child that keeps this subtree alive for the governor's natural end: a service running, or
     * waiting to start or to restart (or added and not started); a supervisor waiting to start or
     * to restart, or running with such a service somewhere below it. A running supervisor whose
     * services have all ended does not count: supervisors stay up, but only services keep the
     * process alive.
     */
    static boolean isActive(Child c) {
        if (c.removed()) {
            return false;
        }
        if (c.run != null) {
            return !c.isSupervisor() || c.subtreeActive();
        }
        return c.pendingStart() || !c.state().isTerminal();
    }

    /**
     * After each message: the root checks for its natural end; a nested supervisor tells its
     * parent whether its subtree is still active. Nothing is reported once this incarnation is
     * ending (cancelled, escalating, shutting itself down): its parent learns of the end itself.
     */
    void afterMessage(boolean ending) {
        if (ending) {
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
                    t.beginShutdown(
                            "every service has ended, " + failed + " of them (or their supervisors) failed",
                            t.options.escalationExitCode(),
                            null);
                }
            }
        } else if (isActive != lastActive) {
            lastActive = isActive;
            activeSink.accept(isActive);
        }
    }

    void publishReadiness(boolean cancelled) {
        boolean ready = notReady == 0 && !cancelled;
        if (ready != lastReady) {
            lastReady = ready;
            readySink.accept(ready);
        }
    }

    @Override
    public String toString() {
        return "notReady=" + notReady + ", active=" + active + ", pending=" + pending;
    }
}
