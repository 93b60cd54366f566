package dev.governor.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import dev.governor.GovernorEvent.Restarting;
import dev.governor.GovernorEvent.Started;
import dev.governor.RestartPolicy;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** README.md, "Testing your services": run by the build as it is shown. */
@GovernorTest // JUnit 5: injects a Governor on a VirtualClock
class WorkerTest {
    @Test
    void backsOffExactly(Governor gov, VirtualClock clock, EventRecorder rec) {
        gov.add("worker", Faults.failsForever())
                .restartPolicy(
                        RestartPolicy.always(Duration.ofMillis(100)).withBackoff(Duration.ofSeconds(30), 2.0, 0.0));
        gov.start();
        long[] expected = {100, 200, 400, 800, 1600};
        for (int i = 0; i < expected.length; i++) {
            Restarting r = rec.awaitEvent(Restarting.class, "worker", i + 1);
            assertThat(r.delay()).isEqualTo(Duration.ofMillis(expected[i]));
            clock.advance(r.delay()); // the next run starts now, not before
            rec.awaitEvent(Started.class, "worker", i + 2);
        }
    }
}
