package dev.governor.runtime.internal;

import dev.governor.ServiceState;

/**
 * What happens to a supervisor's children while no loop of it runs (before its first run, after
 * it ended, or for an operation still queued as its loop ended), and the two steps the loop
 * shares with that path: taking a child out of a pending start, and forgetting a removed one.
 * Callers hold the supervisor's lock or are its loop.
 */
final class IdleOperations {
    private IdleOperations() {}

    /**
     * What an operation does while no loop runs (before the supervisor's first run, after it
     * ended, or asked as its loop ended): the one path for it, run by the caller under the
     * supervisor's lock. Nothing starts: a start waits for the supervisor's next run.
     */
    static void whileIdle(SupervisorImpl sup, Msg.Op op) {
        switch (op) {
            case Msg.StopChild s -> {
                Child c = s.child();
                if (!c.removed()) {
                    withdrawStart(c);
                    if (c.state() == ServiceState.NEW) {
                        c.publish(ServiceState.STOPPED);
                    }
                }
            }
            case Msg.RestartChild r ->
                throw new IllegalStateException(r.what() + ": supervisor \"" + sup.name() + "\" is not running");
            case Msg.RemoveChild r -> {
                Child c = r.child();
                if (!c.removed()) {
                    withdrawStart(c);
                    forget(sup, c, null);
                }
            }
            case Msg.StartChild s -> {} // started with the others when the supervisor runs
            case Msg.StartNewChildren s -> {}
        }
    }

    /** Takes {@code c} out of its supervisor's membership, its loop's counts (if it runs) and the tree's counts. */
    static void forget(SupervisorImpl sup, Child c, SupervisorLoop loop) {
        sup.unlink(c);
        c.removed(true);
        if (loop != null) {
            loop.refresh(c);
        }
        uncountSubtree(c);
        Tree.LOG.info("removed {}", c.path());
    }

    static void uncountSubtree(Child c) {
        c.uncount();
        if (c.service instanceof SupervisorImpl s) {
            for (Child g : s.childrenView()) {
                uncountSubtree(g);
            }
        }
    }

    /**
     * Takes {@code c} out of a pending start or restart (the rest of its restart group still
     * restarts when the delay runs out); true if it was counted as pending a start.
     */
    static boolean withdrawStart(Child c) {
        RestartGroup g = c.restartGroup();
        if (g != null) {
            c.restartGroup(null);
            g.leave();
        }
        boolean wasPending = c.pendingStart();
        boolean wasWaiting = wasPending || c.state() == ServiceState.RESTARTING;
        c.pendingStart(false);
        if (wasWaiting && c.run == null) {
            c.publish(ServiceState.STOPPED);
        }
        return wasPending;
    }
}
