package dev.governor;

import java.time.Duration;

/**
 * What one run of a {@link Service} knows about itself. A fresh context is made for every run;
 * it is cancelled when the service is asked to stop (its own stop, a sibling's restart under
 * ONE_FOR_ALL or REST_FOR_ONE, or shutdown). Cancellation is final for that context.
 *
 * <p>All methods are safe to call from any thread.
 */
public interface ServiceCtx {
    /** The service's path from the root, e.g. {@code "db/pool"}; the root's is {@code ""}. */
    String name();

    /** 0 for the first run, plus one for every restart of this service (including one caused by a sibling). */
    int attempt();

    /** True once this run has been asked to stop. */
    boolean stopping();

    /**
     * Sleeps for {@code duration} on the governor's clock, waking early when this run is asked to stop.
     *
     * @return true if woken by stop: the caller should return from {@code run}
     * @throws IllegalArgumentException if {@code duration} is null or negative
     */
    boolean sleep(Duration duration);

    /** Blocks until this run is asked to stop. */
    void awaitStop() throws InterruptedException;

    /**
     * Declares this run ready (for a service added with {@code readyOnStart(false)}); idempotent.
     * Readiness of the whole tree drives systemd {@code READY=1} and {@code /readyz}.
     */
    void markReady();

    /** A logger named after the service's path. */
    org.slf4j.Logger log();
}
