package dev.governor.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import java.lang.ref.WeakReference;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class WaitPathTrainingTest {

    @Test
    void countsServicesAtEveryDepthAndStopsAtTheBound() {
        SupervisorImpl root = new SupervisorImpl(Strategy.ONE_FOR_ONE, null);
        Supervisor inner = Supervisor.create(Strategy.ONE_FOR_ONE);
        for (int i = 0; i < 5; i++) {
            inner.add("w" + i, ctx -> ctx.awaitStop());
        }
        root.add("a", ctx -> ctx.awaitStop());
        root.add("inner", inner);

        assertThat(WaitPathTraining.atLeast(root, 7))
                .as("a, inner and its 5 children")
                .isTrue();
        assertThat(WaitPathTraining.atLeast(root, 8)).isFalse();
        assertThat(WaitPathTraining.atLeast(new SupervisorImpl(Strategy.ONE_FOR_ONE, null), 1))
                .isFalse();
    }

    /** Regression: the trainer thread was held in a static field, and its task kept the first governor (a whole tree) alive. */
    @Test
    void theBackgroundTrainingDoesNotKeepAGovernorAlive() throws Exception {
        WeakReference<Governor> ref = startAndShutDown();
        await().atMost(Duration.ofSeconds(30))
                .pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    System.gc();
                    return ref.get() == null;
                });
    }

    private static WeakReference<Governor> startAndShutDown() throws InterruptedException {
        Governor gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        gov.add("idle", ctx -> ctx.awaitStop());
        gov.start();
        assertThat(gov.awaitReady(Duration.ofSeconds(30))).isTrue();
        gov.shutdown();
        return new WeakReference<>(gov);
    }
}
