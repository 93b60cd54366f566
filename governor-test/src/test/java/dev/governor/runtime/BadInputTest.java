package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.RestartPolicy;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Every bad input of API.md fails with a message naming the value and the rule, and harms nothing. */
@GovernorTest
class BadInputTest {

    @Test
    void shouldRejectBadNamesQuotingThem(Governor gov) {
        assertThatThrownBy(() -> gov.add(null, Faults.completesAtOnce()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name must not be null");
        assertThatThrownBy(() -> gov.add("  ", Faults.completesAtOnce()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name \"  \" must not be blank");
        assertThatThrownBy(() -> gov.add("a/b", Faults.completesAtOnce()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("name \"a/b\" must not contain '/'");
        gov.add("dup", Faults.completesAtOnce());
        assertThatThrownBy(() -> gov.add("dup", Faults.completesAtOnce()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("duplicate name \"dup\"");
        assertThatThrownBy(() -> gov.add("nothing", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"nothing\"")
                .hasMessageContaining("null");
        assertThat(gov.services()).extracting(i -> i.name()).containsExactly("dup");
    }

    @Test
    void shouldRejectNegativeDurationsQuotingThem(Governor gov) {
        Duration minus = Duration.ofMillis(-5);
        assertThatThrownBy(() -> gov.restart(minus))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT-0.005S");
        assertThatThrownBy(() -> gov.shutdownTimeout(minus))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT-0.005S");
        var cfg = gov.add("s", Faults.runsUntilStopped());
        assertThatThrownBy(() -> cfg.shutdownTimeout(minus))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT-0.005S");
        assertThatThrownBy(() -> cfg.restart(minus))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT-0.005S");
        assertThatThrownBy(() -> gov.sleep(minus))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT-0.005S");
        assertThatThrownBy(() -> gov.intensity(3, minus))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PT-0.005S");
        assertThatThrownBy(() -> RestartPolicy.always(Duration.ZERO).withLimit(0, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("withLimit maxRestarts must be >= 1, was 0");
        assertThatThrownBy(() -> gov.intensity(-1, Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must be >= 0")
                .hasMessageContaining("was -1");
    }

    @Test
    void shouldRejectASupervisorAddedTwiceAndAGovernorAsAChild(Governor gov) {
        Supervisor sub = Supervisor.create(Strategy.ONE_FOR_ALL);
        gov.add("sub", sub);
        assertThatThrownBy(() -> gov.add("again", sub))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already added as \"sub\"");
        try (Governor other = Governor.create()) {
            assertThatThrownBy(() -> gov.add("other", other))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("\"other\"")
                    .hasMessageContaining("Governor");
        }
        assertThat(gov.services()).extracting(i -> i.name()).containsExactly("sub");
    }

    @Test
    void shouldRejectAServiceDependingOnItselfAtOnce(Governor gov) {
        var cfg = gov.add("self", Faults.runsUntilStopped());
        assertThatThrownBy(() -> cfg.dependsOn("self"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("\"self\" must not depend on itself");
    }

    @Test
    void shouldReportAnUnknownDependencyAtStartNamingIt(Governor gov) {
        gov.add("api", Faults.runsUntilStopped()).dependsOn("db");
        assertThatThrownBy(gov::start)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"api\" depends on unknown sibling \"db\"");
    }

    @Test
    void shouldReportADependencyCycleAtStartNamingTheWholeCycle(Governor gov) {
        gov.add("a", Faults.runsUntilStopped()).dependsOn("c");
        gov.add("b", Faults.runsUntilStopped()).dependsOn("a");
        gov.add("c", Faults.runsUntilStopped()).dependsOn("b");
        assertThatThrownBy(gov::start)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a -> c -> b -> a");
    }

    @Test
    void shouldRejectAddAfterShutdownBeganWithoutHarmingTheTree(Governor gov, EventRecorder rec) {
        gov.add("a", Faults.runsUntilStopped());
        gov.start();
        gov.shutdown();
        assertThatThrownBy(() -> gov.add("late", Faults.runsUntilStopped()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("\"late\"")
                .hasMessageContaining("shutdown");
        assertThat(gov.services()).extracting(i -> i.name()).containsExactly("a");
    }

    @Test
    void shouldRejectUnknownChildrenAndConfigAfterStartButKeepRunning(Governor gov, EventRecorder rec) {
        var cfg = gov.add("a", Faults.runsUntilStopped());
        gov.start();
        rec.awaitEvent(GovernorEvent.Ready.class, "");
        assertThatThrownBy(() -> gov.stopChild("ghost"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no child named \"ghost\"");
        assertThatThrownBy(() -> gov.restartChild("nowhere/ghost"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"nowhere\"");
        assertThatThrownBy(() -> cfg.restart(Duration.ofSeconds(1)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("\"a\"")
                .hasMessageContaining("after it started");
        assertThatThrownBy(() -> gov.onEvent(null)).isInstanceOf(IllegalArgumentException.class);
        assertThat(gov.service("a").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
        assertThat(gov.isReady()).isTrue();
    }

    @Test
    void shouldRejectWaitingForShutdownBeforeStart(Governor gov) {
        assertThatThrownBy(gov::waitForShutdown)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("before start()");
    }
}
