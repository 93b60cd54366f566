package dev.governor.runtime.internal;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.runtime.systemd.SdNotify;
import dev.governor.spi.GovernorProvider;

/** The runtime's entry for {@link java.util.ServiceLoader}. */
public final class GovernorProviderImpl implements GovernorProvider {
    @Override
    public Governor createGovernor(GovernorOptions options) {
        if (options.systemd()) {
            SdNotify.linkAhead(); // overlaps the first native call's linking with what main() does before start()
        }
        dev.governor.runtime.systemd.ListenFdsSnapshot.take(); // before any listener of the governor binds
        return new GovernorImpl(options);
    }

    @Override
    public Supervisor createSupervisor(Strategy strategy) {
        return new SupervisorImpl(strategy, null);
    }
}
