package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent.Ready;
import dev.governor.GovernorEvent.Started;
import dev.governor.GovernorEvent.Stopped;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.test.EventRecorder;
import dev.governor.test.Faults;
import dev.governor.test.GovernorTest;
import org.junit.jupiter.api.Test;

/** Children added, stopped, restarted and removed while the governor runs. */
@GovernorTest
class DynamicChildrenTest {

    @Test
    void shouldStartAChildAddedWhileRunningOnlyWhenToldTo(Governor gov, EventRecorder rec) {
        gov.add("first", Faults.runsUntilStopped());
        gov.start();
        rec.awaitEvent(Ready.class, "");
        var cfg = gov.add("second", Faults.runsUntilStopped());
        assertThat(gov.service("second").orElseThrow().state()).isEqualTo(ServiceState.NEW);
        cfg.start();
        assertThat(rec.awaitEvent(Started.class, "second").attempt()).isZero();
        assertThat(gov.services()).extracting(ServiceInfo::name).containsExactly("first", "second");
        cfg.start();
        assertThat(rec.events(Started.class, "second")).hasSize(1);
        gov.shutdown();
        assertThat(rec.events(Stopped.class)).extracting(e -> e.service()).containsExactly("second", "first");
    }

    @Test
    void shouldStopAChildForGoodWithoutRestartingIt(Governor gov, EventRecorder rec) {
        gov.restart(java.time.Duration.ZERO);
        gov.add("a", Faults.runsUntilStopped());
        gov.add("b", Faults.runsUntilStopped());
        gov.start();
        rec.awaitEvent(Ready.class, "");
        gov.stopChild("a");
        assertThat(gov.service("a").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
        assertThat(rec.events(Started.class, "a")).hasSize(1);
        assertThat(gov.service("b").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
        assertThat(gov.stopping()).isFalse();
    }

    @Test
    void shouldRestartAChildOnRequestWithTheNextAttempt(Governor gov, EventRecorder rec) {
        Faults.Counting svc = Faults.runsUntilStopped();
        gov.add("a", svc);
        gov.start();
        rec.awaitEvent(Started.class, "a");
        gov.restartChild("a");
        assertThat(rec.awaitEvent(Started.class, "a", 2).attempt()).isEqualTo(1);
        rec.assertSequence("a", Started.class, Ready.class, Stopped.class, Started.class, Ready.class);
        // Started is published as the run's thread starts, not once its body began: wait for the body
        await().atMost(java.time.Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(svc.runs()).isEqualTo(2));
    }

    @Test
    void shouldRemoveAChildSoItsNameCanBeUsedAgain(Governor gov, EventRecorder rec) {
        gov.add("a", Faults.runsUntilStopped());
        gov.add("keep", Faults.runsUntilStopped());
        gov.start();
        rec.awaitEvent(Ready.class, "");
        gov.removeChild("a");
        assertThat(gov.service("a")).isEmpty();
        assertThat(gov.services()).extracting(ServiceInfo::name).containsExactly("keep");
        assertThatThrownBy(() -> gov.stopChild("a")).isInstanceOf(IllegalArgumentException.class);
        gov.add("a", Faults.runsUntilStopped()).start();
        rec.awaitEvent(Started.class, "a", 2);
        assertThat(gov.services()).extracting(ServiceInfo::name).containsExactly("keep", "a");
    }

    @Test
    void shouldLetAServiceStopItselfThroughItsSupervisorWithoutDeadlock(Governor gov, EventRecorder rec) {
        gov.add("keep", Faults.runsUntilStopped());
        gov.add("self", ctx -> {
            gov.stopChild("self");
            ctx.awaitStop();
        });
        gov.start();
        rec.awaitEvent(Stopped.class, "self");
        EventRecorder.awaitState(gov, "self", ServiceState.STOPPED);
        assertThat(gov.service("keep").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
    }
}
