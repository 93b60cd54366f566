package dev.governor.runtime.internal;

import java.time.Instant;

/**
 * Where a governor is in its life, as one immutable value: started or not, whether its root is
 * ready, and once its shutdown began, why, when, with which exit code and fatal cause, and
 * whether its report was made. {@link GovernorImpl} keeps it in one volatile field, replaced
 * under its lock; readers ({@code isReady}, {@code stopping}, {@code toString}) read it without.
 *
 * @param shutdownReason   why the shutdown began; null until it does
 * @param shutdownStartedAt when it began (governor clock); null until it does
 */
record GovernorPhase(
        boolean started,
        boolean rootReady,
        String shutdownReason,
        Instant shutdownStartedAt,
        int exitCode,
        Throwable fatalCause,
        boolean finished) {
    static final GovernorPhase NEW = new GovernorPhase(false, false, null, null, 0, null, false);

    GovernorPhase {
        if ((shutdownReason == null) != (shutdownStartedAt == null)) {
            throw new IllegalArgumentException(
                    "a shutdown has both a reason and a start, was " + shutdownReason + " at " + shutdownStartedAt);
        }
        if (shutdownReason == null && (exitCode != 0 || fatalCause != null || finished)) {
            throw new IllegalArgumentException("exit code " + exitCode + ", cause " + fatalCause + ", finished "
                    + finished + " before any shutdown began");
        }
    }

    /** The shutdown began (a governor stops once: stopping stays true). */
    boolean stopping() {
        return shutdownStartedAt != null;
    }

    /** Governor.isReady(): the root is ready and no shutdown began. */
    boolean ready() {
        return rootReady && !stopping();
    }

    GovernorPhase withStarted() {
        return new GovernorPhase(true, rootReady, shutdownReason, shutdownStartedAt, exitCode, fatalCause, finished);
    }

    GovernorPhase withRootReady(boolean ready) {
        return new GovernorPhase(started, ready, shutdownReason, shutdownStartedAt, exitCode, fatalCause, finished);
    }

    GovernorPhase withShutdown(String reason, Instant at, int code, Throwable cause) {
        return new GovernorPhase(started, rootReady, reason, at, code, cause, false);
    }

    /** The report is being made: nothing of the shutdown changes any more. */
    GovernorPhase withFinished() {
        return new GovernorPhase(started, rootReady, shutdownReason, shutdownStartedAt, exitCode, fatalCause, true);
    }
}
