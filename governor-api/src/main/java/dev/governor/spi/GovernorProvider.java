package dev.governor.spi;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.Strategy;
import dev.governor.Supervisor;

/**
 * Implemented by a Governor runtime and registered for {@link java.util.ServiceLoader} (in
 * {@code META-INF/services/dev.governor.spi.GovernorProvider}). {@link Governor#create()} and
 * {@link Supervisor#create(Strategy)} use the first one found. User code never calls this.
 */
public interface GovernorProvider {
    Governor createGovernor(GovernorOptions options);

    Supervisor createSupervisor(Strategy strategy);
}
