package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.Governor;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.Faults;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Operations on a supervisor whose loop does not run (before start): one path handles them all
 * (IdleOperations.whileIdle, issue 15), and what they do stays what it was.
 */
class IdleOperationsTest {

    @Test
    void shouldStopRemoveAndRefuseRestartBeforeStartThenStartOnlyWhatIsLeft() throws Exception {
        Governor gov = Governor.create(new VirtualClock().options());
        try {
            gov.add("kept", Faults.runsUntilStopped());
            gov.add("stopped", Faults.runsUntilStopped());
            gov.add("removed", Faults.runsUntilStopped());

            gov.stopChild("stopped");
            assertThat(state(gov, "stopped")).isEqualTo(ServiceState.STOPPED);
            gov.removeChild("removed");
            assertThat(gov.service("removed")).isEmpty();
            assertThatThrownBy(() -> gov.restartChild("kept"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("restartChild(\"kept\"): supervisor \"\" is not running");

            gov.start();
            assertThat(gov.awaitReady(Duration.ofSeconds(30))).isTrue();
            assertThat(state(gov, "kept")).isEqualTo(ServiceState.RUNNING);
            assertThat(state(gov, "stopped")).isEqualTo(ServiceState.STOPPED); // the root runs once
            assertThat(gov.services().stream().map(ServiceInfo::name)).containsExactly("kept", "stopped");
        } finally {
            gov.shutdown();
        }
    }

    @Test
    void shouldTreatANestedSupervisorThatIsNotRunningTheSameWay() throws Exception {
        Governor gov = Governor.create(new VirtualClock().options());
        try {
            Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ALL);
            pool.add("a", Faults.runsUntilStopped());
            pool.add("b", Faults.runsUntilStopped());
            gov.add("pool", pool);
            pool.removeChild("b");
            assertThatThrownBy(() -> pool.restartChild("a"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("restartChild(\"a\"): supervisor \"pool\" is not running");
            gov.start();
            assertThat(gov.awaitReady(Duration.ofSeconds(30))).isTrue();
            assertThat(state(gov, "pool/a")).isEqualTo(ServiceState.RUNNING);
            assertThat(gov.service("pool/b")).isEmpty();
        } finally {
            gov.shutdown();
        }
    }

    private static ServiceState state(Governor gov, String path) {
        return gov.service(path).orElseThrow().state();
    }
}
