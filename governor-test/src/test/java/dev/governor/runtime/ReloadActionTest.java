package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.Governor;
import dev.governor.ReloadAction;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@code onReload(() -> …)}: the overload for a reload that needs no governor. */
@GovernorTest
class ReloadActionTest {

    @Test
    void shouldRunANoArgumentLambdaOnReload(Governor gov) {
        AtomicInteger reloads = new AtomicInteger();
        gov.add("worker", Faults.runsUntilStopped());
        gov.onReload(() -> reloads.incrementAndGet()); // compiles: the lambda takes no governor
        gov.start();
        assertThat(gov.reload()).isTrue();
        assertThat(gov.reload()).isTrue();
        assertThat(reloads).hasValue(2);
    }

    @Test
    void shouldStillTakeTheOneArgumentHandler(Governor gov) {
        AtomicInteger seen = new AtomicInteger();
        gov.add("worker", Faults.runsUntilStopped());
        gov.onReload(g -> seen.addAndGet(g.services().size()));
        gov.start();
        assertThat(gov.reload()).isTrue();
        assertThat(seen).hasValue(1);
    }

    @Test
    void shouldReportAThrowingActionAsAFailedReloadAndKeepServing(Governor gov) throws InterruptedException {
        gov.add("worker", Faults.runsUntilStopped());
        gov.onReload(() -> {
            throw new java.io.IOException("config unreadable on purpose");
        });
        gov.start();
        EventRecorder.awaitState(gov, "worker", dev.governor.ServiceState.RUNNING); // start() is asynchronous
        assertThat(gov.reload()).isFalse();
        assertThat(gov.service("worker").orElseThrow().state()).isEqualTo(dev.governor.ServiceState.RUNNING);
    }

    @Test
    void shouldRefuseANullAction(Governor gov) {
        assertThatThrownBy(() -> gov.onReload((ReloadAction) null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("must not be null");
    }
}
