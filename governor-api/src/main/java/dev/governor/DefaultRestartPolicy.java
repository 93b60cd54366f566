package dev.governor;

import java.time.Duration;
import java.util.Optional;

/** The one implementation of {@link RestartPolicy}: a value checked on construction. */
record DefaultRestartPolicy(
        Mode mode,
        Duration delay,
        Duration maxDelay,
        double multiplier,
        double jitter,
        Optional<Duration> explicitReset,
        int maxRestarts,
        Duration limitWindow)
        implements RestartPolicy {

    static final DefaultRestartPolicy NEVER = new DefaultRestartPolicy(
            Mode.NEVER, Duration.ZERO, Duration.ZERO, 1.0, 0.0, Optional.empty(), 0, Duration.ZERO);

    DefaultRestartPolicy {
        Checks.notNegative(delay, "delay");
        if (maxDelay.compareTo(delay) < 0) {
            throw new IllegalArgumentException("backoff max " + maxDelay + " must be >= the delay " + delay);
        }
        if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
            throw new IllegalArgumentException("backoff multiplier must be a finite number >= 1, was " + multiplier);
        }
        if (!(jitter >= 0.0 && jitter <= 1.0)) {
            throw new IllegalArgumentException("backoff jitter must be within [0, 1], was " + jitter);
        }
        if (maxRestarts < 0) {
            throw new IllegalArgumentException("maxRestarts must be >= 1, was " + maxRestarts);
        }
    }

    static DefaultRestartPolicy of(Mode mode, Duration delay) {
        Checks.notNegative(delay, "restart delay");
        return new DefaultRestartPolicy(mode, delay, delay, 1.0, 0.0, Optional.empty(), 0, Duration.ZERO);
    }

    @Override
    public RestartPolicy withBackoff(Duration max, double multiplier, double jitter) {
        requireRestarting("withBackoff");
        Checks.notNegative(max, "backoff max");
        return new DefaultRestartPolicy(mode, delay, max, multiplier, jitter, explicitReset, maxRestarts, limitWindow);
    }

    @Override
    public RestartPolicy resetAfter(Duration stableRun) {
        requireRestarting("resetAfter");
        Checks.positive(stableRun, "resetAfter");
        return new DefaultRestartPolicy(
                mode, delay, maxDelay, multiplier, jitter, Optional.of(stableRun), maxRestarts, limitWindow);
    }

    @Override
    public RestartPolicy withLimit(int maxRestarts, Duration window) {
        requireRestarting("withLimit");
        if (maxRestarts < 1) {
            throw new IllegalArgumentException("withLimit maxRestarts must be >= 1, was " + maxRestarts);
        }
        Checks.positive(window, "withLimit window");
        return new DefaultRestartPolicy(mode, delay, maxDelay, multiplier, jitter, explicitReset, maxRestarts, window);
    }

    @Override
    public Duration delayFor(int consecutive, double random) {
        if (consecutive < 0) {
            throw new IllegalArgumentException("consecutive must be >= 0, was " + consecutive);
        }
        if (!(random >= -1.0 && random <= 1.0)) {
            throw new IllegalArgumentException("random must be within [-1, 1], was " + random);
        }
        double nanos = delay.toNanos();
        double cap = maxDelay.toNanos();
        for (int i = 0; i < consecutive && nanos < cap; i++) {
            nanos *= multiplier;
        }
        nanos = Math.min(nanos, cap) * (1.0 + jitter * random);
        return Duration.ofNanos(Math.round(nanos));
    }

    @Override
    public Optional<Duration> resetAfter() {
        if (explicitReset.isPresent() || maxDelay.equals(delay)) {
            return explicitReset;
        }
        return Optional.of(maxDelay);
    }

    private void requireRestarting(String what) {
        if (mode == Mode.NEVER) {
            throw new IllegalStateException(what + " has no meaning on RestartPolicy.never(): it never restarts");
        }
    }

    @Override
    public String toString() {
        if (mode == Mode.NEVER) {
            return "RestartPolicy.never()";
        }
        StringBuilder s = new StringBuilder("RestartPolicy.")
                .append(mode == Mode.ALWAYS ? "always(" : "onFailure(")
                .append(delay)
                .append(')');
        if (!maxDelay.equals(delay)) {
            s.append(".withBackoff(")
                    .append(maxDelay)
                    .append(", ")
                    .append(multiplier)
                    .append(", ")
                    .append(jitter)
                    .append(')');
        }
        explicitReset.ifPresent(r -> s.append(".resetAfter(").append(r).append(')'));
        if (maxRestarts > 0) {
            s.append(".withLimit(")
                    .append(maxRestarts)
                    .append(", ")
                    .append(limitWindow)
                    .append(')');
        }
        return s.toString();
    }
}
