package dev.governor;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable snapshot of one node of the tree, as {@link Governor#services()} returns it.
 *
 * @param name        path from the root, e.g. {@code "db/pool"}
 * @param state       lifecycle state
 * @param ready       whether the current run declared itself ready
 * @param restarts    how many times this node was restarted
 * @param lastFailure the last failure of a run, if any
 * @param startedAt   when the current (or last) run began, if it ever ran
 * @param supervisor  true for a supervisor node
 */
public record ServiceInfo(
        String name,
        ServiceState state,
        boolean ready,
        int restarts,
        Optional<Throwable> lastFailure,
        Optional<Instant> startedAt,
        boolean supervisor) {
    public ServiceInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(lastFailure, "lastFailure");
        Objects.requireNonNull(startedAt, "startedAt");
        if (restarts < 0) {
            throw new IllegalArgumentException("restarts must be >= 0, was " + restarts);
        }
    }
}
