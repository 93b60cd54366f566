package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.ServiceState;
import dev.governor.Strategy;
import java.time.Instant;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Child's packed loop booleans, its lazily made restart state, and what moved out of fields of their own. */
class ChildFlagsTest {
    private record Flag(String name, Function<Child, Boolean> get, BiConsumer<Child, Boolean> set) {}

    private static final List<Flag> FLAGS = List.of(
            new Flag("ready", Child::ready, Child::ready),
            new Flag("pendingStart", Child::pendingStart, Child::pendingStart),
            new Flag("subtreeActive", Child::subtreeActive, Child::subtreeActive),
            new Flag("endedOnPurpose", Child::endedOnPurpose, Child::endedOnPurpose),
            new Flag("countedNotReady", Child::countedNotReady, Child::countedNotReady),
            new Flag("countedActive", Child::countedActive, Child::countedActive),
            new Flag("removed", Child::removed, Child::removed));

    private static Child child() {
        return new Child(new SupervisorImpl(Strategy.ONE_FOR_ONE, null), "w", ctx -> {});
    }

    @Test
    void shouldRoundTripEveryFlagWithoutTouchingTheOthers() {
        for (int pattern = 0; pattern < 1 << FLAGS.size(); pattern++) {
            Child c = child();
            for (int i = 0; i < FLAGS.size(); i++) {
                FLAGS.get(i).set().accept(c, (pattern & 1 << i) != 0);
            }
            assertThat(c.frozen()).isFalse();
            for (int i = 0; i < FLAGS.size(); i++) {
                assertThat(FLAGS.get(i).get().apply(c))
                        .as("%s in pattern %s", FLAGS.get(i).name(), Integer.toBinaryString(pattern))
                        .isEqualTo((pattern & 1 << i) != 0);
            }
            c.freeze();
            for (int i = 0; i < FLAGS.size(); i++) { // flip each back and forth: only it changes
                Flag f = FLAGS.get(i);
                boolean was = f.get().apply(c);
                f.set().accept(c, !was);
                for (int j = 0; j < FLAGS.size(); j++) {
                    assertThat(FLAGS.get(j).get().apply(c))
                            .as("%s after %s flipped", FLAGS.get(j).name(), f.name())
                            .isEqualTo(((pattern & 1 << j) != 0) ^ (j == i));
                }
                f.set().accept(c, was);
            }
            assertThat(c.frozen()).isTrue();
        }
    }

    @Test
    void shouldKeepTheRestartStateOnlyOnceSomethingIsSet() {
        Child c = child();
        c.consecutiveRestarts(0);
        c.restartTimes(null);
        c.lastFailure(null);
        c.restartGroup(null);
        assertThat(c.consecutiveRestarts()).isZero();
        assertThat(c.restartTimes()).isNull();
        assertThat(c.lastFailure()).isNull();
        assertThat(c.restartGroup()).isNull();

        RestartWindow w = new RestartWindow();
        IllegalStateException boom = new IllegalStateException("boom");
        RestartGroup g = new RestartGroup();
        c.consecutiveRestarts(3);
        c.restartTimes(w);
        c.lastFailure(boom);
        c.restartGroup(g);
        assertThat(c.consecutiveRestarts()).isEqualTo(3);
        assertThat(c.restartTimes()).isSameAs(w);
        assertThat(c.lastFailure()).isSameAs(boom);
        assertThat(c.restartGroup()).isSameAs(g);
        c.restartGroup(null);
        c.consecutiveRestarts(0);
        assertThat(c.restartGroup()).isNull();
        assertThat(c.consecutiveRestarts()).isZero();
        assertThat(c.lastFailure()).isSameAs(boom);
    }

    @Test
    void shouldReadTheStateFromThePublishedSnapshot() {
        Child c = child();
        assertThat(c.state()).isEqualTo(ServiceState.NEW);
        c.publish(ServiceState.NEW);
        assertThat(c.info().state()).isEqualTo(ServiceState.NEW);
        c.ready(true);
        c.publishStarted(ServiceState.RUNNING, java.util.Optional.of(Instant.EPOCH));
        assertThat(c.state()).isEqualTo(ServiceState.RUNNING);
        assertThat(c.info().ready()).isTrue();
        c.lastFailure(new IllegalStateException("boom"));
        c.publish(ServiceState.FAILED);
        assertThat(c.state()).isEqualTo(ServiceState.FAILED);
        assertThat(c.info().lastFailure()).containsSame(c.lastFailure());
        assertThat(c.info().startedAt()).contains(Instant.EPOCH);
    }

    @Test
    void shouldWaiveReadinessWithoutCountingAsConfigurationAndRefuseConfigurationOnceFrozen() {
        Child c = child();
        assertThat(c.gatesReadiness()).isTrue();
        c.freeze();
        c.waiveReadiness(true); // an incoming generation, already started: not a user's configuration
        assertThat(c.gatesReadiness()).isFalse();
        c.waiveReadiness(false);
        assertThat(c.gatesReadiness()).isTrue();
        assertThatThrownBy(c::excludeFromReadiness)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("after it started");
        Child other = child();
        other.waiveReadiness(false); // nothing to undo: the shared defaults stay untouched
        assertThat(other.gatesReadiness()).isTrue();
        assertThat(child().gatesReadiness()).isTrue();
    }
}
