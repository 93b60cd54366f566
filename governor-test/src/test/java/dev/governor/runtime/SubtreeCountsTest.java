package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import dev.governor.GovernorEvent.Ready;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import org.junit.jupiter.api.Test;

/**
 * The tree's counts per state (the status line of systemd's STATUS=, /healthz and the logs) include
 * a subtree that was built before it was added: its nodes were published with no tree to count them.
 */
@GovernorTest
class SubtreeCountsTest {

    @Test
    void aPoolBuiltBeforeItIsAddedIsCountedFromTheStart(Governor gov, EventRecorder rec) {
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        Supervisor inner = Supervisor.create(Strategy.ONE_FOR_ONE);
        inner.add("deep", Faults.runsUntilStopped());
        pool.add("a", Faults.runsUntilStopped());
        pool.add("b", Faults.runsUntilStopped());
        pool.add("inner", inner);
        gov.add("pool", pool);
        GovernorHooks hooks = GovernorRuntime.hooks(gov);
        assertThat(hooks.statusLine()).as("pool, a, b, inner, deep").isEqualTo("5 new");

        gov.start();
        rec.awaitEvent(Ready.class, "");
        assertThat(hooks.statusLine()).isEqualTo("5 running");
        gov.shutdown();
        assertThat(hooks.statusLine()).isEqualTo("5 stopped");
    }
}
