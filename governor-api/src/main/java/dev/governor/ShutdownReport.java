package dev.governor;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How the governor's shutdown went, as returned by {@link Governor#waitForShutdown()}.
 *
 * @param exitCode   0 after a clean shutdown; the escalation or fatal code otherwise
 * @param duration   from the moment shutdown began until the tree had stopped
 * @param stopTimes  per path, how long its stop took, in stop order (copied; the report's map is
 *                   unmodifiable, and built when first read)
 * @param unstopped  paths still running when their shutdown timeout ran out
 * @param fatalCause the fatal error or escalation that caused the shutdown, if any
 */
public record ShutdownReport(
        int exitCode,
        Duration duration,
        Map<String, Duration> stopTimes,
        List<String> unstopped,
        Optional<Throwable> fatalCause) {
    public ShutdownReport {
        Objects.requireNonNull(duration, "duration");
        stopTimes = ReportStopTimes.copyOf(Objects.requireNonNull(stopTimes, "stopTimes"));
        unstopped = List.copyOf(unstopped);
        Objects.requireNonNull(fatalCause, "fatalCause");
    }

    /** True when the exit code is 0 and every service stopped in time. */
    public boolean clean() {
        return exitCode == 0 && unstopped.isEmpty();
    }
}
