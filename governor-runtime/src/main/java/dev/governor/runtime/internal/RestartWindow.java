package dev.governor.runtime.internal;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;

/** The restarts made within a sliding window: a per-service limit or a supervisor's intensity. */
final class RestartWindow {
    private final ArrayDeque<Instant> times = new ArrayDeque<>();

    /** How many restarts fall within {@code window} before {@code now}. */
    int count(Instant now, Duration window) {
        Instant oldest = now.minus(window);
        while (!times.isEmpty() && !times.peekFirst().isAfter(oldest)) {
            times.removeFirst();
        }
        return times.size();
    }

    void record(Instant now) {
        times.addLast(now);
    }

    void clear() {
        times.clear();
    }

    @Override
    public String toString() {
        return "RestartWindow" + times;
    }
}
