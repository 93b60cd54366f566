package dev.governor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestartPolicyTest {

    @Test
    void backoffDoublesFromTheBaseDelayUpToTheCapExactlyWithoutJitter() {
        RestartPolicy p = RestartPolicy.always(Duration.ofMillis(100)).withBackoff(Duration.ofSeconds(30), 2.0, 0.0);
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            millis.add(p.delayFor(i, 1.0).toMillis());
        }
        assertThat(millis)
                .containsExactly(100L, 200L, 400L, 800L, 1600L, 3200L, 6400L, 12800L, 25600L, 30000L, 30000L, 30000L);
    }

    @Test
    void jitterSpreadsTheDelayWithinItsFraction() {
        RestartPolicy p = RestartPolicy.onFailure(Duration.ofSeconds(1)).withBackoff(Duration.ofSeconds(1), 1.0, 0.25);
        assertThat(p.delayFor(0, -1.0)).isEqualTo(Duration.ofMillis(750));
        assertThat(p.delayFor(0, 1.0)).isEqualTo(Duration.ofMillis(1250));
        assertThat(p.delayFor(5, 0.0)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void withoutBackoffEveryRestartWaitsTheSameDelayAndZeroIsAllowed() {
        assertThat(RestartPolicy.always(Duration.ofMillis(40)).delayFor(7, 0.3)).isEqualTo(Duration.ofMillis(40));
        assertThat(RestartPolicy.always(Duration.ZERO).delayFor(3, 1.0)).isZero();
    }

    @Test
    void modesDecideWhichEndsRestart() {
        assertThat(RestartPolicy.never().restarts(true)).isFalse();
        assertThat(RestartPolicy.always(Duration.ZERO).restarts(false)).isTrue();
        assertThat(RestartPolicy.onFailure(Duration.ZERO).restarts(false)).isFalse();
        assertThat(RestartPolicy.onFailure(Duration.ZERO).restarts(true)).isTrue();
    }

    @Test
    void policiesAreImmutableValues() {
        RestartPolicy base = RestartPolicy.always(Duration.ofSeconds(1));
        RestartPolicy limited = base.withLimit(5, Duration.ofSeconds(30));
        assertThat(base.maxRestarts()).isZero();
        assertThat(limited.maxRestarts()).isEqualTo(5);
        assertThat(limited.limitWindow()).isEqualTo(Duration.ofSeconds(30));
        assertThat(limited)
                .isEqualTo(RestartPolicy.always(Duration.ofSeconds(1)).withLimit(5, Duration.ofSeconds(30)));
        assertThat(limited.toString()).isEqualTo("RestartPolicy.always(PT1S).withLimit(5, PT30S)");
    }

    @Test
    void backoffResetsAfterARunAsLongAsItsCapUnlessToldOtherwise() {
        RestartPolicy p = RestartPolicy.always(Duration.ofMillis(100)).withBackoff(Duration.ofSeconds(30), 2.0, 0.0);
        assertThat(p.resetAfter()).contains(Duration.ofSeconds(30));
        assertThat(p.resetAfter(Duration.ofMinutes(5)).resetAfter()).contains(Duration.ofMinutes(5));
        assertThat(RestartPolicy.always(Duration.ofSeconds(1)).resetAfter()).isEmpty();
    }

    @Test
    void badArgumentsAreRejectedWithTheValueAndTheRule() {
        assertThatThrownBy(() -> RestartPolicy.always(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT-1S")
                .hasMessageContaining("negative");
        assertThatThrownBy(() -> RestartPolicy.always(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("null");
        assertThatThrownBy(() -> RestartPolicy.always(Duration.ZERO).withLimit(0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("was 0")
                .hasMessageContaining(">= 1");
        assertThatThrownBy(() -> RestartPolicy.always(Duration.ZERO).withLimit(3, Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT0S");
        assertThatThrownBy(() -> RestartPolicy.always(Duration.ofSeconds(2)).withBackoff(Duration.ofSeconds(1), 2, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT1S")
                .hasMessageContaining("PT2S");
        assertThatThrownBy(() -> RestartPolicy.always(Duration.ZERO).withBackoff(Duration.ofSeconds(1), 0.5, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("0.5");
        assertThatThrownBy(() -> RestartPolicy.always(Duration.ZERO).withBackoff(Duration.ofSeconds(1), 2, 1.5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("1.5");
        assertThatThrownBy(() -> RestartPolicy.never().withLimit(3, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("never()");
    }
}
