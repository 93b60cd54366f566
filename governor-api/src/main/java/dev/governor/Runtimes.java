package dev.governor;

import dev.governor.spi.GovernorProvider;
import java.util.ServiceLoader;

/** Finds the runtime once, through {@link ServiceLoader}. */
final class Runtimes {
    static final String ARTIFACT = "dev.governor:governor-runtime";

    private Runtimes() {}

    private static final class Holder {
        static final GovernorProvider PROVIDER = ServiceLoader.load(
                        GovernorProvider.class, Runtimes.class.getClassLoader())
                .findFirst()
                .or(() -> ServiceLoader.load(GovernorProvider.class).findFirst())
                .orElse(null);
    }

    static GovernorProvider provider() {
        GovernorProvider p = Holder.PROVIDER;
        if (p == null) {
            throw new IllegalStateException("no Governor runtime on the class path: add the artifact " + ARTIFACT
                    + " (a " + GovernorProvider.class.getName() + " found by ServiceLoader)");
        }
        return p;
    }
}
