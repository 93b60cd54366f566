package dev.governor.runtime;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * One reloadable node ({@link dev.governor.Supervisor#addReloadable}) as the status views and the
 * metrics show it.
 *
 * @param name        its path, e.g. {@code app}
 * @param generation  the generation serving now (1 until the first successful reload)
 * @param lastOutcome {@code none} (never reloaded), {@code reloaded} or {@code refused}
 * @param lastAt      when the last reload of this node ended
 * @param lastError   why the last reload was refused, when it was
 * @param reloads     successful reloads so far
 * @param refusals    refused reloads so far
 * @param draining    generations being stopped after a reload (listed as {@code name~n})
 */
public record ReloadableStatus(
        String name,
        int generation,
        String lastOutcome,
        Optional<Instant> lastAt,
        Optional<String> lastError,
        long reloads,
        long refusals,
        List<Integer> draining) {}
