package dev.governor;

import dev.governor.spi.GovernorProvider;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds the runtime once: governor-runtime's own provider by its name when that class is on the
 * class path and accessible, otherwise the first one {@link ServiceLoader} finds.
 *
 * <p>The name comes first because it is on the path to a daemon's {@code READY=1}: a
 * {@link ServiceLoader} lookup opens every jar of the class path and reads {@code
 * META-INF/services} through {@code JarURLConnection} (~20–40 ms on a cold JVM), where loading one
 * known class costs what loading the provider costs anyway. On the module path the runtime's
 * internal package is not exported, the name is not accessible, and the {@code provides} clause of
 * its module descriptor is found by the {@link ServiceLoader} as before.
 */
final class Runtimes {
    static final String ARTIFACT = "dev.governor:governor-runtime";
    /** governor-runtime's provider, as its {@code META-INF/services} entry names it. */
    static final String KNOWN_PROVIDER = "dev.governor.runtime.internal.GovernorProviderImpl";

    private Runtimes() {}

    private static final class Holder {
        static final GovernorProvider PROVIDER = find();
    }

    private static GovernorProvider find() {
        GovernorProvider known = byName(KNOWN_PROVIDER, Runtimes.class.getClassLoader());
        if (known != null) {
            return known;
        }
        return ServiceLoader.load(GovernorProvider.class, Runtimes.class.getClassLoader())
                .findFirst()
                .or(() -> ServiceLoader.load(GovernorProvider.class).findFirst())
                .orElse(null);
    }

    /**
     * The provider {@code className} made with its public no-argument constructor, or null when the
     * class is absent, not a provider, or not accessible (a named module that does not export it).
     * A constructor that throws is a {@link ServiceConfigurationError}, as from the {@link ServiceLoader}.
     */
    static GovernorProvider byName(String className, ClassLoader loader) {
        Class<? extends GovernorProvider> type;
        try {
            type = Class.forName(className, false, loader).asSubclass(GovernorProvider.class);
        } catch (ClassNotFoundException | LinkageError | ClassCastException e) {
            return null;
        }
        if (type.getModule().isNamed() && !type.getModule().isExported(type.getPackageName())) {
            return null; // on the module path: its provides clause is the way in
        }
        try {
            return type.getConstructor().newInstance();
        } catch (NoSuchMethodException | IllegalAccessException | InstantiationException e) {
            return null;
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new ServiceConfigurationError(
                    GovernorProvider.class.getName() + ": Provider " + className + " could not be instantiated",
                    e.getCause()); // as the ServiceLoader reports it
        }
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
