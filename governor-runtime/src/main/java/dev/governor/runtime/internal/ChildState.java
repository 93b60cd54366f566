package dev.governor.runtime.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The part of a {@link Child} its parent's loop owns: the current run, the next attempt number,
 * its booleans packed in one int, and the state only a child that failed or restarts needs. A
 * class of its own only to keep Child's file readable; the fields are laid out in each Child.
 */
abstract class ChildState {
    // owned by the parent's loop (or by a caller holding parent.lock while the loop does not run)
    Run run;
    int nextAttempt;
    /**
     * The loop's booleans, one bit each (see the accessors below): eleven boolean fields made a
     * child 8 bytes larger, a million times over in a pool. Written by the loop only (and once by
     * the constructor, {@link #markSupervisor}, before the child is shared), so a plain
     * read-modify-write loses nothing; {@link #frozen()} is also read by callers configuring it.
     */
    private int flags;
    /** What only a child that failed or restarts needs; null until then (a pool's services never make one). */
    private Restarts restarts;

    private static final VarHandle FLAGS;

    static {
        try {
            FLAGS = MethodHandles.lookup().findVarHandle(ChildState.class, "flags", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    void freeze() {
        set(FROZEN, true);
    }

    /**
     * Set once, as the child is made, when its service is a supervisor: the loop asks on every start
     * and recount, and reading the service's class missed the cache once per child of a large pool.
     */
    void markSupervisor() {
        set(SUPERVISOR, true);
    }

    /** Whether the service is a supervisor (a bit of the flags, see {@link #markSupervisor}). */
    final boolean isSupervisor() {
        return is(SUPERVISOR);
    }

    // ---- the loop's flags and restart state (accessors named after the fields they replaced) ----

    private static final int READY = 1;
    private static final int PENDING_START = 1 << 1;
    private static final int SUBTREE_ACTIVE = 1 << 2;
    private static final int ENDED_ON_PURPOSE = 1 << 3;
    private static final int COUNTED_NOT_READY = 1 << 4;
    private static final int COUNTED_ACTIVE = 1 << 5;
    private static final int REMOVED = 1 << 6;
    private static final int FROZEN = 1 << 7;
    private static final int SUPERVISOR = 1 << 8;

    private boolean is(int bit) {
        return (flags & bit) != 0;
    }

    private void set(int bit, boolean on) {
        flags = on ? flags | bit : flags & ~bit;
    }

    /** Whether the current run is ready. */
    boolean ready() {
        return is(READY);
    }

    void ready(boolean on) {
        set(READY, on);
    }

    /** Waiting to start (counted in ChildCounts.pending). */
    boolean pendingStart() {
        return is(PENDING_START);
    }

    void pendingStart(boolean on) {
        set(PENDING_START, on);
    }

    /** A running supervisor child: its subtree still has a service to run. */
    boolean subtreeActive() {
        return is(SUBTREE_ACTIVE);
    }

    void subtreeActive(boolean on) {
        set(SUBTREE_ACTIVE, on);
    }

    /** Its last run threw StopService: never started again by a group restart. */
    boolean endedOnPurpose() {
        return is(ENDED_ON_PURPOSE);
    }

    void endedOnPurpose(boolean on) {
        set(ENDED_ON_PURPOSE, on);
    }

    boolean countedNotReady() {
        return is(COUNTED_NOT_READY);
    }

    void countedNotReady(boolean on) {
        set(COUNTED_NOT_READY, on);
    }

    /** Its parent's loop starts a new incarnation: attempts, restarts and readiness start over. */
    void freshIncarnation() {
        nextAttempt = 0;
        consecutiveRestarts(0);
        restartTimes(null);
        ready(false);
        lastFailure(null);
        endedOnPurpose(false);
    }

    /** A run lasted its policy's {@code resetAfter}: the restarts before it no longer count. */
    void ranStably() {
        consecutiveRestarts(0);
        RestartWindow w = restartTimes();
        if (w != null) {
            w.clear();
        }
    }

    /** Not counted anywhere, not pending: as a new loop's counts (all zero) have it. */
    void clearCounted() {
        flags &= ~(COUNTED_NOT_READY | COUNTED_ACTIVE | PENDING_START);
    }

    boolean countedActive() {
        return is(COUNTED_ACTIVE);
    }

    void countedActive(boolean on) {
        set(COUNTED_ACTIVE, on);
    }

    boolean removed() {
        return is(REMOVED);
    }

    void removed(boolean on) {
        set(REMOVED, on);
    }

    /** Started once: its configuration can no longer change (read by the threads configuring it). */
    boolean frozen() {
        return ((int) FLAGS.getVolatile(this) & FROZEN) != 0;
    }

    int consecutiveRestarts() {
        Restarts r = restarts;
        return r == null ? 0 : r.consecutive;
    }

    void consecutiveRestarts(int n) {
        if (n != 0 || restarts != null) {
            restarts().consecutive = n;
        }
    }

    /** Its own restarts within its policy's limit window; null until the first one. */
    RestartWindow restartTimes() {
        Restarts r = restarts;
        return r == null ? null : r.times;
    }

    void restartTimes(RestartWindow w) {
        if (w != null || restarts != null) {
            restarts().times = w;
        }
    }

    Throwable lastFailure() {
        Restarts r = restarts;
        return r == null ? null : r.lastFailure;
    }

    void lastFailure(Throwable t) {
        if (t != null || restarts != null) {
            restarts().lastFailure = t;
        }
    }

    /** The pending restart this child waits for, shared by its group; null when none. */
    RestartGroup restartGroup() {
        Restarts r = restarts;
        return r == null ? null : r.group;
    }

    void restartGroup(RestartGroup g) {
        if (g != null || restarts != null) {
            restarts().group = g;
        }
    }

    private Restarts restarts() {
        Restarts r = restarts;
        if (r == null) {
            r = new Restarts();
            restarts = r;
        }
        return r;
    }

    /** The loop's state of a child that failed or restarted (loop only, like the fields it stands for). */
    private static final class Restarts {
        int consecutive;
        RestartWindow times;
        Throwable lastFailure;
        RestartGroup group;
    }
}
