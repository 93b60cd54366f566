package dev.governor;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** governor-api's own tests run without the runtime on the class path: the user's mistake, reproduced. */
class NoRuntimeTest {

    @Test
    void createWithoutARuntimeNamesTheArtifactToAdd() {
        assertThatThrownBy(Governor::create)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dev.governor:governor-runtime");
        assertThatThrownBy(() -> Supervisor.create(Strategy.ONE_FOR_ALL))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dev.governor:governor-runtime");
    }

    @Test
    void optionsRejectBadValuesByName() {
        assertThatThrownBy(() -> GovernorOptions.builder()
                        .shutdownTimeout(java.time.Duration.ZERO)
                        .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shutdownTimeout")
                .hasMessageContaining("PT0S");
        assertThatThrownBy(() -> GovernorOptions.builder().fatalExitCode(0).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fatalExitCode")
                .hasMessageContaining("was 0");
    }
}
