package dev.governor.test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.Scheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class VirtualClockTest {

    @Test
    void shouldRunDueTasksInTimeOrderWithTheClockAtEachDueTime() {
        VirtualClock clock = new VirtualClock();
        Instant t0 = clock.instant();
        List<String> ran = new ArrayList<>();
        clock.schedule(
                Duration.ofSeconds(3),
                () -> ran.add("3s@" + Duration.between(t0, clock.instant()).toSeconds()));
        clock.schedule(
                Duration.ofSeconds(1),
                () -> ran.add("1s@" + Duration.between(t0, clock.instant()).toSeconds()));
        clock.schedule(
                Duration.ofSeconds(1),
                () -> ran.add(
                        "1s-second@" + Duration.between(t0, clock.instant()).toSeconds()));
        clock.schedule(Duration.ofSeconds(9), () -> ran.add("9s"));
        clock.advance(Duration.ofSeconds(5));
        assertThat(ran).containsExactly("1s@1", "1s-second@1", "3s@3");
        assertThat(clock.instant()).isEqualTo(t0.plusSeconds(5));
        assertThat(clock.pending()).containsExactly(Duration.ofSeconds(4));
    }

    @Test
    void shouldRunTasksScheduledByTasksWhenTheyFallWithinTheStep() {
        VirtualClock clock = new VirtualClock();
        List<Long> at = new ArrayList<>();
        Instant t0 = clock.instant();
        Runnable[] again = new Runnable[1];
        again[0] = () -> {
            at.add(Duration.between(t0, clock.instant()).toMillis());
            clock.schedule(Duration.ofMillis(100), again[0]);
        };
        clock.schedule(Duration.ofMillis(100), again[0]);
        clock.advance(Duration.ofMillis(450));
        assertThat(at).containsExactly(100L, 200L, 300L, 400L);
    }

    @Test
    void shouldNotRunACancelledTask() {
        VirtualClock clock = new VirtualClock();
        List<String> ran = new ArrayList<>();
        Scheduler.Cancellable c = clock.schedule(Duration.ofSeconds(1), () -> ran.add("x"));
        assertThat(c.cancel()).isTrue();
        assertThat(c.cancel()).isFalse();
        clock.advance(Duration.ofDays(7));
        assertThat(ran).isEmpty();
        assertThat(clock.advanceToNext()).isFalse();
    }

    @Test
    void shouldRejectNegativeSteps() {
        VirtualClock clock = new VirtualClock();
        assertThatThrownBy(() -> clock.advance(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT-0.001S");
        assertThatThrownBy(() -> clock.schedule(Duration.ofMillis(-1), () -> {}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT-0.001S");
    }
}
