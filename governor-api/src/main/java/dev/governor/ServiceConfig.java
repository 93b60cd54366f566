package dev.governor;

import java.time.Duration;

/**
 * How a supervisor runs one of its children, returned by {@link Supervisor#add}. Every setter
 * returns this config for chaining and validates its argument at once. Configuration is frozen
 * when the child starts; a setter called after that throws {@link IllegalStateException}.
 */
public interface ServiceConfig {
    /** Same as {@code restartPolicy(RestartPolicy.always(after))}. */
    ServiceConfig restart(Duration after);

    /** Same as {@code restartPolicy(RestartPolicy.never())}. */
    ServiceConfig noRestart();

    /** This child's own restart policy; without one, the supervisor's default applies, whenever it is set. */
    ServiceConfig restartPolicy(RestartPolicy policy);

    /** How long a stop waits for {@code run} to return before reporting the service unstopped; default 5 s. */
    ServiceConfig shutdownTimeout(Duration timeout);

    /**
     * After its context is cancelled, how long {@code run} may take to return by itself, finishing
     * in-flight work (an HTTP server: stop accepting, finish requests, close keep-alive connections
     * after their current response), before {@link Stoppable#stop()} and the interrupt; then the
     * {@link #shutdownTimeout} applies. Every stop drains: shutdown, {@code stopChild}, a restart,
     * the outgoing generation of a reload. Default {@link java.time.Duration#ZERO}.
     */
    ServiceConfig drainTimeout(Duration timeout);

    /**
     * Siblings that must be ready before this child starts, and that are stopped only after it.
     * Unknown names and cycles are reported at {@code start()}; a child naming itself, at once.
     */
    ServiceConfig dependsOn(String... names);

    /** Default true: ready when its run begins. False: ready only when the run calls {@link ServiceCtx#markReady()}. */
    ServiceConfig readyOnStart(boolean onStart);

    /**
     * Starts this child now, when its supervisor already runs (no effect on a child that has
     * started). Before the supervisor starts, the child starts with it. No more config after.
     */
    void start();
}
