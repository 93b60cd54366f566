package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import dev.governor.GovernorEvent.Ready;
import dev.governor.GovernorEvent.Started;
import dev.governor.RestartPolicy;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.EventRecorder;
import dev.governor.test.GovernorTest;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The children of a pool share one published snapshot while they publish the same values (a
 * million parked services keep one, not a million): what one child does must never show in the
 * status of its siblings, and the sharing must not call user code (a failure's equals()).
 */
@GovernorTest
class SharedSnapshotTest {

    /** A failure whose equals() and hashCode() throw: the governor must never call them. */
    static final class HostileFailure extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        HostileFailure() {
            super("hostile");
        }

        @Override
        public boolean equals(Object o) {
            throw new AssertionError("equals() of a user's exception was called");
        }

        @Override
        public int hashCode() {
            throw new AssertionError("hashCode() of a user's exception was called");
        }
    }

    @Test
    void shouldKeepEachChildsStatusItsOwnWhilePoolChildrenShareSnapshots(Governor gov, EventRecorder rec) {
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        AtomicInteger bRuns = new AtomicInteger();
        HostileFailure failure = new HostileFailure();
        for (String n : new String[] {"a", "b", "c"}) {
            pool.add(n, ctx -> {
                        if (n.equals("b") && bRuns.incrementAndGet() <= 2) {
                            throw failure; // the same object twice: two publications with one failure
                        }
                        ctx.awaitStop();
                    })
                    .restartPolicy(RestartPolicy.onFailure(Duration.ZERO));
        }
        gov.add("pool", pool);
        gov.start();
        rec.awaitEvent(Started.class, "pool/b", 3);
        rec.awaitEvent(Ready.class, "");

        ServiceInfo a = gov.service("pool/a").orElseThrow();
        ServiceInfo b = EventRecorder.awaitState(gov, "pool/b", ServiceState.RUNNING);
        ServiceInfo c = gov.service("pool/c").orElseThrow();
        assertThat(b.restarts()).isEqualTo(2);
        assertThat(b.lastFailure()).containsSame(failure);
        for (ServiceInfo sibling : new ServiceInfo[] {a, c}) {
            assertThat(sibling.state()).isEqualTo(ServiceState.RUNNING);
            assertThat(sibling.restarts()).isZero();
            assertThat(sibling.lastFailure()).isEmpty();
            assertThat(sibling.ready()).isTrue();
        }
        assertThat(a.name()).isEqualTo("pool/a");
        assertThat(c.name()).isEqualTo("pool/c");
        assertThat(a.startedAt()).isPresent().isEqualTo(c.startedAt());

        gov.shutdown();
        assertThat(gov.services())
                .filteredOn(i -> !i.supervisor())
                .extracting(ServiceInfo::name, ServiceInfo::state, ServiceInfo::restarts)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("pool/a", ServiceState.STOPPED, 0),
                        org.assertj.core.groups.Tuple.tuple("pool/b", ServiceState.STOPPED, 2),
                        org.assertj.core.groups.Tuple.tuple("pool/c", ServiceState.STOPPED, 0));
    }
}
