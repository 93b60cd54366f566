package dev.governor;

import java.time.Duration;
import java.util.Optional;

/**
 * When and how soon a service is run again after a run ends. Immutable: every {@code with*}
 * returns a new policy.
 *
 * <p>The delays, for {@code always(d).withBackoff(max, m, j)}: the first restart waits {@code d},
 * the next {@code d*m}, then {@code d*m²}, … each capped at {@code max}, then spread by a random
 * factor in {@code [1-j, 1+j]}. For example {@code always(100ms).withBackoff(30s, 2, 0)} waits
 * 100, 200, 400, … 25600 ms, then 30 s on every later restart. Without backoff every restart
 * waits {@code d}.
 *
 * <p>The backoff sequence starts again after a run that lasted at least {@code resetAfter}; without
 * an explicit {@link #resetAfter}, a policy with backoff resets after a run as long as its cap.
 * A {@link #withLimit limit} counts restarts in a sliding window: the restart that would make more
 * than {@code maxRestarts} within {@code window} is not made; the service becomes
 * {@link ServiceState#FAILED} and its supervisor escalates (at the root: ordered shutdown with a
 * non-zero exit code). Without a limit, restarts are unlimited.
 *
 * <p>{@link StopService} ends a service for good under every policy, and a fatal
 * {@link VirtualMachineError} is never restarted.
 */
public sealed interface RestartPolicy permits DefaultRestartPolicy {

    /** When a policy restarts. */
    enum Mode {
        /** Never: the service runs once (OTP temporary, Go's default). */
        NEVER,
        /** After any end of run except {@link StopService} (OTP permanent). */
        ALWAYS,
        /** Only after a failure (OTP transient). */
        ON_FAILURE
    }

    /** Never restart. */
    static RestartPolicy never() {
        return DefaultRestartPolicy.NEVER;
    }

    /** Restart after any end of {@code run()} except {@link StopService}, waiting {@code delay} (zero allowed). */
    static RestartPolicy always(Duration delay) {
        return DefaultRestartPolicy.of(Mode.ALWAYS, delay);
    }

    /** Restart only after {@code run()} throws, waiting {@code delay} (zero allowed). */
    static RestartPolicy onFailure(Duration delay) {
        return DefaultRestartPolicy.of(Mode.ON_FAILURE, delay);
    }

    /**
     * Grow the delay geometrically: {@code delay, delay*multiplier, …} capped at {@code max}, each
     * spread by a random factor in {@code [1-jitter, 1+jitter]}.
     *
     * @throws IllegalArgumentException if {@code max} is below the base delay, {@code multiplier < 1}
     *     or {@code jitter} is outside {@code [0, 1]}
     * @throws IllegalStateException on {@link #never()}
     */
    RestartPolicy withBackoff(Duration max, double multiplier, double jitter);

    /** Backoff and limit counters reset after a run at least {@code stableRun} long. */
    RestartPolicy resetAfter(Duration stableRun);

    /**
     * At most {@code maxRestarts} restarts within any {@code window}; the next makes the service
     * FAILED and escalates to its supervisor.
     *
     * @throws IllegalArgumentException if {@code maxRestarts < 1} or {@code window} is not positive
     * @throws IllegalStateException on {@link #never()}
     */
    RestartPolicy withLimit(int maxRestarts, Duration window);

    /** When this policy restarts. */
    Mode mode();

    /** The base delay before a restart (zero for {@link #never()}). */
    Duration delay();

    /** Whether a run that ended this way is restarted ({@code failed}: it threw, other than {@link StopService}). */
    default boolean restarts(boolean failed) {
        return switch (mode()) {
            case NEVER -> false;
            case ALWAYS -> true;
            case ON_FAILURE -> failed;
        };
    }

    /**
     * The delay before a restart.
     *
     * @param consecutive restarts made since the last reset (0 for the first)
     * @param random      a value in {@code [-1, 1]} that scales the jitter; 0 gives the exact sequence
     */
    Duration delayFor(int consecutive, double random);

    /** After a run this long the backoff and limit counters reset, if ever. */
    Optional<Duration> resetAfter();

    /** The most restarts allowed within {@link #limitWindow()}; 0 when unlimited. */
    int maxRestarts();

    /** The sliding window of the limit; zero when unlimited. */
    Duration limitWindow();
}
