package dev.governor.runtime.internal;

import dev.governor.Scheduler;

/**
 * One pending restart of a group of siblings (one child under ONE_FOR_ONE): the timer they share
 * and how many still wait for it. A child taken out of the group (stopped, removed) leaves; the
 * timer is cancelled only when the last one leaves, so the others still restart.
 */
final class RestartGroup {
    Scheduler.Cancellable timer;
    int waiting;

    /** Takes one child out; cancels the timer once nobody waits for it. */
    void leave() {
        if (--waiting == 0 && timer != null) {
            timer.cancel();
            timer = null;
        }
    }

    @Override
    public String toString() {
        return "RestartGroup[waiting=" + waiting + (timer != null ? ", timer" : "") + "]";
    }
}
