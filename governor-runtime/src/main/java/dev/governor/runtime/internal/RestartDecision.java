package dev.governor.runtime.internal;

import dev.governor.RestartPolicy;
import dev.governor.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The arithmetic of a restart, apart from the loop that carries it out: whether a child that
 * ended may restart (its policy's limit, then its supervisor's intensity), after which delay, and
 * which siblings its strategy takes along. Pure functions of their arguments: no threads, no
 * clock, no tree (RestartDecisionTest covers them case by case).
 */
final class RestartDecision {
    private RestartDecision() {}

    /** What becomes of a child whose policy asks for a restart. */
    sealed interface Verdict {}

    /** It restarts after {@code delay}; the caller records the restart in both windows. */
    record Restart(Duration delay) implements Verdict {}

    /** Its supervisor gives up: {@code restarts} within {@code window} already reach a limit, named by {@code why}. */
    record Escalate(int restarts, Duration window, String why) implements Verdict {}

    /** What a restart needs to know of one sibling (the child that ended included). */
    record Sibling(boolean removed, boolean running, boolean restarting, boolean temporary, boolean endedOnPurpose) {}

    /** A run that lasted {@code ran} was stable: its policy's count of consecutive restarts and limit window start over. */
    static boolean stable(RestartPolicy policy, Duration ran) {
        return policy.resetAfter().map(stable -> ran.compareTo(stable) >= 0).orElse(false);
    }

    /**
     * Whether {@code path}, its run ended and {@code policy} asking for a restart, restarts: not if
     * the restarts in {@code own} (its limit window; null if none recorded) reach the policy's
     * limit, nor if those in {@code intensity} reach its supervisor's ({@code intensityMax} -1:
     * unlimited); else after the policy's delay for its {@code consecutive}-th restart with
     * {@code jitter} in [-1, 1]. Counting drops the restarts that fell out of a window; nothing is recorded.
     */
    static Verdict decide(
            String path,
            RestartPolicy policy,
            RestartWindow own,
            int consecutive,
            String supervisor,
            int intensityMax,
            Duration intensityWindow,
            RestartWindow intensity,
            Instant now,
            double jitter) {
        if (policy.maxRestarts() > 0) {
            int made = own == null ? 0 : own.count(now, policy.limitWindow());
            if (made >= policy.maxRestarts()) {
                return new Escalate(
                        made,
                        policy.limitWindow(),
                        path + " would restart more than " + policy.maxRestarts() + " times within "
                                + policy.limitWindow() + " (its limit)");
            }
        }
        if (intensityMax >= 0) {
            int made = intensity.count(now, intensityWindow);
            if (made >= intensityMax) {
                return new Escalate(
                        made,
                        intensityWindow,
                        "supervisor \"" + supervisor + "\" would restart its children more than " + intensityMax
                                + " times within " + intensityWindow + " (its intensity); last: " + path);
            }
        }
        return new Restart(policy.delayFor(consecutive, jitter));
    }

    /**
     * The siblings the restart of {@code ended} takes along, in start order, {@code ended} included:
     * itself under ONE_FOR_ONE; under ONE_FOR_ALL every sibling, under REST_FOR_ONE those after it,
     * that is not removed and is running or waiting to restart. The running ones are stopped first.
     */
    static <T> List<T> group(Strategy strategy, List<T> children, T ended, Function<T, Sibling> facts) {
        if (strategy == Strategy.ONE_FOR_ONE) {
            return List.of(ended);
        }
        int from = strategy == Strategy.ONE_FOR_ALL ? 0 : Math.max(0, children.indexOf(ended));
        List<T> out = new ArrayList<>();
        for (T c : children.subList(from, children.size())) {
            Sibling s = facts.apply(c);
            if (c == ended ? !s.removed() : !s.removed() && (s.running() || s.restarting())) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * Whether a member of the group starts again once the running ones were stopped: not one that
     * would not stop; of the siblings, not a temporary one (policy never) nor one that ended on
     * purpose (StopService) before its stop was requested.
     */
    static boolean startsAgain(Sibling s, boolean isEnded) {
        return !s.running() && (isEnded || !s.temporary() && !s.endedOnPurpose());
    }
}
