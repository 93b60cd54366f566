package dev.governor.runtime;

import dev.governor.ShutdownReport;

/** The moments of a governor's life that extensions act on; every method has an empty default. */
public interface LifecycleListener {
    /** The whole tree became ready (again, after a reload or a restart that had made it unready). */
    default void ready() {}

    /** The counts per state changed; {@code statusLine} as {@link GovernorHooks#statusLine()}. */
    default void statusChanged(String statusLine) {}

    /** Shutdown began, for {@code reason}; readiness has dropped. */
    default void shutdownBegan(String reason) {}

    /** A service finished stopping during shutdown: the shutdown is making progress. */
    default void shutdownProgress(String service) {}

    /** The reload handler is about to run. */
    default void reloadBegan() {}

    /** The reload handler returned ({@code ok}) or threw. */
    default void reloadEnded(boolean ok) {}

    /**
     * The reload ended: {@code ok}, or refused for {@code error} (a sentence naming the node and the
     * cause; null when ok). By default calls {@link #reloadEnded(boolean)}.
     */
    default void reloadEnded(boolean ok, String error) {
        reloadEnded(ok);
    }

    /** The tree has stopped; the last call. */
    default void stopped(ShutdownReport report) {}
}
