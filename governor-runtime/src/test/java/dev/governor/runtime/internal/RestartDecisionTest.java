package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.RestartPolicy;
import dev.governor.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The restart arithmetic on its own: no threads, no clock, no tree. */
class RestartDecisionTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration MINUTE = Duration.ofMinutes(1);

    private static RestartDecision.Verdict decide(
            RestartPolicy policy,
            RestartWindow own,
            int consecutive,
            int intensityMax,
            RestartWindow intensity,
            Instant now) {
        return RestartDecision.decide(
                "app/db", policy, own, consecutive, "app", intensityMax, MINUTE, intensity, now, 0.0);
    }

    private static RestartWindow window(Instant... times) {
        RestartWindow w = new RestartWindow();
        for (Instant t : times) {
            w.record(t);
        }
        return w;
    }

    @Test
    void shouldRestartAfterThePolicyDelayWhenNothingLimitsIt() {
        var v = decide(RestartPolicy.always(Duration.ofMillis(250)), null, 0, -1, new RestartWindow(), T0);
        assertThat(v).isEqualTo(new RestartDecision.Restart(Duration.ofMillis(250)));
    }

    @Test
    void shouldRestartAtOnceWithAZeroDelay() {
        var v = decide(RestartPolicy.onFailure(Duration.ZERO), null, 7, -1, new RestartWindow(), T0);
        assertThat(v).isEqualTo(new RestartDecision.Restart(Duration.ZERO));
    }

    @Test
    void shouldDoubleTheDelayPerConsecutiveRestartUpToTheCap() {
        RestartPolicy p = RestartPolicy.always(Duration.ofMillis(100)).withBackoff(Duration.ofMillis(500), 2, 0);
        assertThat(List.of(0, 1, 2, 3, 4).stream()
                        .map(n -> ((RestartDecision.Restart) decide(p, null, n, -1, new RestartWindow(), T0))
                                .delay()
                                .toMillis())
                        .toList())
                .containsExactly(100L, 200L, 400L, 500L, 500L);
    }

    @Test
    void shouldRestartWhileTheLimitIsNotReached() {
        RestartPolicy p = RestartPolicy.always(Duration.ZERO).withLimit(3, MINUTE);
        var v = decide(p, window(T0, T0.plusSeconds(1)), 2, -1, new RestartWindow(), T0.plusSeconds(2));
        assertThat(v).isInstanceOf(RestartDecision.Restart.class);
    }

    @Test
    void shouldEscalateWhenTheLimitIsReachedWithinItsWindow() {
        RestartPolicy p = RestartPolicy.always(Duration.ZERO).withLimit(3, MINUTE);
        var v = decide(
                p, window(T0, T0.plusSeconds(1), T0.plusSeconds(2)), 3, -1, new RestartWindow(), T0.plusSeconds(3));
        assertThat(v)
                .isEqualTo(new RestartDecision.Escalate(
                        3, MINUTE, "app/db would restart more than 3 times within PT1M (its limit)"));
    }

    @Test
    void shouldForgetRestartsThatLeftTheLimitWindow() {
        RestartPolicy p = RestartPolicy.always(Duration.ZERO).withLimit(2, MINUTE);
        // exactly one window after the first restart, it no longer counts
        var v = decide(p, window(T0, T0.plusSeconds(30)), 2, -1, new RestartWindow(), T0.plus(MINUTE));
        assertThat(v).isInstanceOf(RestartDecision.Restart.class);
    }

    @Test
    void shouldTreatAMissingLimitWindowAsNoRestartsYet() {
        RestartPolicy p = RestartPolicy.always(Duration.ZERO).withLimit(1, MINUTE);
        assertThat(decide(p, null, 0, -1, new RestartWindow(), T0)).isInstanceOf(RestartDecision.Restart.class);
    }

    @Test
    void shouldEscalateWhenTheSupervisorIntensityIsReached() {
        var v = decide(
                RestartPolicy.always(Duration.ZERO), null, 0, 2, window(T0, T0.plusSeconds(5)), T0.plusSeconds(10));
        assertThat(v)
                .isEqualTo(
                        new RestartDecision.Escalate(
                                2,
                                MINUTE,
                                "supervisor \"app\" would restart its children more than 2 times within PT1M (its intensity); last: app/db"));
    }

    @Test
    void shouldEscalateOnTheFirstRestartWithIntensityZero() {
        var v = decide(RestartPolicy.always(Duration.ZERO), null, 0, 0, new RestartWindow(), T0);
        assertThat(v).isInstanceOf(RestartDecision.Escalate.class);
        assertThat(((RestartDecision.Escalate) v).restarts()).isZero();
    }

    @Test
    void shouldCheckTheChildLimitBeforeTheSupervisorIntensity() {
        RestartPolicy p = RestartPolicy.always(Duration.ZERO).withLimit(1, MINUTE);
        var v = decide(p, window(T0), 1, 1, window(T0), T0.plusSeconds(1));
        assertThat(((RestartDecision.Escalate) v).why()).endsWith("(its limit)");
    }

    @Test
    void shouldNotChangeTheWindowsItCounts() {
        RestartWindow own = window(T0);
        RestartWindow intensity = window(T0);
        decide(RestartPolicy.always(Duration.ZERO).withLimit(5, MINUTE), own, 1, 5, intensity, T0.plusSeconds(1));
        assertThat(own.count(T0.plusSeconds(1), MINUTE)).isEqualTo(1);
        assertThat(intensity.count(T0.plusSeconds(1), MINUTE)).isEqualTo(1);
    }

    @Test
    void shouldCallARunStableOnlyWhenItLastedResetAfter() {
        RestartPolicy p = RestartPolicy.always(Duration.ZERO).resetAfter(Duration.ofSeconds(10));
        assertThat(RestartDecision.stable(p, Duration.ofSeconds(10))).isTrue();
        assertThat(RestartDecision.stable(p, Duration.ofMillis(9_999))).isFalse();
        assertThat(RestartDecision.stable(RestartPolicy.always(Duration.ZERO), Duration.ofDays(1)))
                .isFalse();
    }

    // ---- which siblings go with a restart ----

    private static final RestartDecision.Sibling RUNNING =
            new RestartDecision.Sibling(false, true, false, false, false);
    private static final RestartDecision.Sibling ENDED = new RestartDecision.Sibling(false, false, false, false, false);
    private static final RestartDecision.Sibling RESTARTING =
            new RestartDecision.Sibling(false, false, true, false, false);
    private static final RestartDecision.Sibling STOPPED =
            new RestartDecision.Sibling(false, false, false, false, false);
    private static final RestartDecision.Sibling REMOVED = new RestartDecision.Sibling(true, true, false, false, false);

    private static List<String> group(Strategy s, String ended, Map<String, RestartDecision.Sibling> facts) {
        List<String> order = List.of("a", "b", "c", "d", "e").stream()
                .filter(facts::containsKey)
                .toList();
        return RestartDecision.group(s, order, ended, facts::get);
    }

    @Test
    void shouldTakeOnlyTheEndedChildUnderOneForOne() {
        assertThat(group(Strategy.ONE_FOR_ONE, "b", Map.of("a", RUNNING, "b", ENDED, "c", RUNNING)))
                .containsExactly("b");
    }

    @Test
    void shouldTakeEveryRunningOrRestartingSiblingUnderOneForAll() {
        var facts = Map.of("a", RUNNING, "b", STOPPED, "c", ENDED, "d", RESTARTING, "e", REMOVED);
        assertThat(group(Strategy.ONE_FOR_ALL, "c", facts)).containsExactly("a", "c", "d");
    }

    @Test
    void shouldTakeTheEndedChildAndThoseAfterItUnderRestForOne() {
        var facts = Map.of("a", RUNNING, "b", ENDED, "c", RUNNING, "d", STOPPED, "e", RESTARTING);
        assertThat(group(Strategy.REST_FOR_ONE, "b", facts)).containsExactly("b", "c", "e");
    }

    @Test
    void shouldTakeNothingBeforeTheLastChildUnderRestForOne() {
        var facts = Map.of("a", RUNNING, "b", RUNNING, "c", ENDED);
        assertThat(group(Strategy.REST_FOR_ONE, "c", facts)).containsExactly("c");
    }

    @Test
    void shouldStartAgainOnlySiblingsThatStoppedAndAreNeitherTemporaryNorDoneOnPurpose() {
        var temporary = new RestartDecision.Sibling(false, false, false, true, false);
        var onPurpose = new RestartDecision.Sibling(false, false, false, false, true);
        var wouldNotStop = RUNNING;
        assertThat(RestartDecision.startsAgain(STOPPED, false)).isTrue();
        assertThat(RestartDecision.startsAgain(temporary, false)).isFalse();
        assertThat(RestartDecision.startsAgain(onPurpose, false)).isFalse();
        assertThat(RestartDecision.startsAgain(wouldNotStop, false)).isFalse();
        // the ended child itself restarts by its own policy, whatever it would be as a sibling
        assertThat(RestartDecision.startsAgain(temporary, true)).isTrue();
        assertThat(RestartDecision.startsAgain(onPurpose, true)).isTrue();
        assertThat(RestartDecision.startsAgain(wouldNotStop, true)).isFalse();
    }
}
