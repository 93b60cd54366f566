package dev.governor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.spi.GovernorProvider;
import java.util.ServiceConfigurationError;
import org.junit.jupiter.api.Test;

/** The runtime's provider by name, before any ServiceLoader lookup, and what makes the name unusable. */
class RuntimesTest {
    private static final ClassLoader LOADER = RuntimesTest.class.getClassLoader();

    /** What the providers below do when asked for anything: they are only ever made here. */
    public abstract static class UnusedProvider implements GovernorProvider {
        @Override
        public Governor createGovernor(GovernorOptions options) {
            throw new UnsupportedOperationException("never called here");
        }

        @Override
        public Supervisor createSupervisor(Strategy strategy) {
            throw new UnsupportedOperationException("never called here");
        }
    }

    /** A provider as the runtime's is: public, with a public no-argument constructor. */
    public static final class NamedProvider extends UnusedProvider {}

    /** A provider whose constructor fails. */
    public static final class FailingProvider extends UnusedProvider {
        public FailingProvider() {
            throw new IllegalStateException("no runtime today");
        }
    }

    /** Not a provider at all. */
    public static final class NotAProvider {}

    @Test
    void aProviderOnTheClassPathIsMadeByItsName() {
        assertThat(Runtimes.byName(NamedProvider.class.getName(), LOADER)).isInstanceOf(NamedProvider.class);
    }

    @Test
    void anAbsentOrForeignClassIsNoProvider() {
        assertThat(Runtimes.byName("dev.governor.runtime.internal.NoSuchProvider", LOADER))
                .isNull();
        assertThat(Runtimes.byName(NotAProvider.class.getName(), LOADER)).isNull();
        // governor-api's tests run without the runtime: the known name is absent here
        assertThat(Runtimes.byName(Runtimes.KNOWN_PROVIDER, LOADER)).isNull();
    }

    @Test
    void aConstructorThatFailsIsReportedAsTheServiceLoaderWouldReportIt() {
        assertThatThrownBy(() -> Runtimes.byName(FailingProvider.class.getName(), LOADER))
                .isInstanceOf(ServiceConfigurationError.class)
                .hasMessageContaining(FailingProvider.class.getName())
                .hasRootCauseMessage("no runtime today");
    }
}
