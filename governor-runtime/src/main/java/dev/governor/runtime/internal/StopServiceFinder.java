package dev.governor.runtime.internal;

import dev.governor.StopService;

/** Finds a {@link StopService} in a failure's cause chain (a service may wrap it). */
final class StopServiceFinder {
    record Found(String reason) {}

    private StopServiceFinder() {}

    static Found find(Throwable t) {
        try {
            for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
                if (t instanceof StopService s) {
                    return new Found(s.reason());
                }
            }
        } catch (Throwable broken) { // a user's getCause() (or a StopService subclass) that throws: not a stop
            return null;
        }
        return null;
    }
}
