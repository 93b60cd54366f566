package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * governor-api finds this runtime by the name it knows ({@code Runtimes.KNOWN_PROVIDER}) before it
 * asks the ServiceLoader: that name must stay the one the runtime registers, or every start pays for
 * the jar scan again without a test noticing.
 */
class KnownProviderTest {

    @Test
    void theNameGovernorApiKnowsIsTheProviderTheRuntimeRegisters() throws Exception {
        String registered;
        try (InputStream in = GovernorProviderImpl.class.getResourceAsStream(
                "/META-INF/services/dev.governor.spi.GovernorProvider")) {
            assertThat(in).as("the runtime's services entry").isNotNull();
            registered = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
        }
        // package-private in governor-api; the tests run on the class path, where reflection reaches it
        var known = Class.forName("dev.governor.Runtimes").getDeclaredField("KNOWN_PROVIDER");
        known.setAccessible(true);
        assertThat(known.get(null)).isEqualTo(registered).isEqualTo(GovernorProviderImpl.class.getName());
        Governor gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        assertThat(gov).isInstanceOf(GovernorImpl.class);
    }
}
