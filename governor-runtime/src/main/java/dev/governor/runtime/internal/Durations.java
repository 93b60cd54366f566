package dev.governor.runtime.internal;

import java.time.Duration;

/** Duration arithmetic that saturates instead of overflowing. */
final class Durations {
    private static final Duration FOREVER = Duration.ofSeconds(Long.MAX_VALUE / 4);

    private Durations() {}

    static Duration plus(Duration a, Duration b) {
        if (a.compareTo(FOREVER) >= 0 || b.compareTo(FOREVER) >= 0 || a.plus(b).compareTo(FOREVER) >= 0) {
            return FOREVER;
        }
        return a.plus(b);
    }

    static Duration min(Duration a, Duration b) {
        return b == null || a.compareTo(b) <= 0 ? a : b;
    }
}
