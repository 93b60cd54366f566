package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorOptions;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A parallel-stop pool is started in one pass of its loop and stopped together, its state changes
 * counted once per pass and its snapshots shared: the counts per state, every child's ServiceInfo,
 * its events and the shutdown report must stay exactly what one child at a time would give.
 */
class PoolCountsTest {
    private static final int N = 300;
    private static final Duration BOUND = Duration.ofSeconds(30);

    @Test
    void shouldCountStartAndStopOfAPoolExactlyAndTellEveryChildsEvents() throws Exception {
        Governor gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        ConcurrentLinkedQueue<GovernorEvent> events = new ConcurrentLinkedQueue<>();
        gov.onEvent(events::add);
        CountDownLatch running = new CountDownLatch(N);
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        for (int i = 0; i < N; i++) {
            pool.add("w" + i, ctx -> {
                running.countDown();
                ctx.awaitStop();
            });
        }
        gov.add("solo", ctx -> ctx.awaitStop());
        gov.add("pool", pool);
        gov.start();
        assertThat(running.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
        GovernorHooks hooks = GovernorRuntime.hooks(gov);
        // every node, the pool's supervisor included, counted once as running
        await().atMost(BOUND).until(() -> hooks.statusLine().equals((N + 2) + " running"));
        List<ServiceInfo> infos = gov.services();
        assertThat(infos).hasSize(N + 2);
        assertThat(infos).allSatisfy(info -> {
            assertThat(info.state()).isEqualTo(ServiceState.RUNNING);
            assertThat(info.ready()).isTrue();
            assertThat(info.restarts()).isZero();
            assertThat(info.startedAt()).isPresent();
        });
        assertThat(gov.isReady()).isTrue();

        gov.shutdown();
        ShutdownReport report = gov.waitForShutdown();
        assertThat(hooks.statusLine()).isEqualTo((N + 2) + " stopped");
        assertThat(gov.services()).allSatisfy(info -> assertThat(info.state()).isEqualTo(ServiceState.STOPPED));
        assertThat(report.unstopped()).isEmpty();
        List<String> stopOrder = new ArrayList<>(report.stopTimes().keySet());
        List<String> expected = new ArrayList<>();
        for (int i = N - 1; i >= 0; i--) {
            expected.add("pool/w" + i); // a parallel stop reports in reverse start order too
        }
        expected.add("pool");
        expected.add("solo");
        assertThat(stopOrder).containsExactlyElementsOf(expected);

        await().atMost(BOUND)
                .until(() -> events.stream()
                        .anyMatch(e -> e instanceof GovernorEvent.Stopped s
                                && s.service().equals("solo")));
        ConcurrentHashMap<String, List<String>> perChild = new ConcurrentHashMap<>();
        for (GovernorEvent e : events) {
            String kind = e.getClass().getSimpleName();
            String who = switch (e) {
                case GovernorEvent.Started s -> s.service();
                case GovernorEvent.Stopped s -> s.service();
                default -> null;
            };
            if (who != null && who.startsWith("pool/")) {
                perChild.computeIfAbsent(who, k -> new ArrayList<>()).add(kind);
            }
        }
        assertThat(perChild).hasSize(N);
        assertThat(perChild.values()).allSatisfy(kinds -> assertThat(kinds).containsExactly("Started", "Stopped"));
    }

    /**
     * A pool joins the tree with its children counted at once while every one of them is still the
     * NEW all unattached children share; one stopped or removed before it joined must still be
     * counted as it is (and a removed one not at all), before and after the start.
     */
    @Test
    void shouldCountAPoolWhoseChildrenChangedBeforeItJoined() throws Exception {
        Governor gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        CountDownLatch running = new CountDownLatch(N - 1);
        Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        for (int i = 0; i < N; i++) {
            pool.add("w" + i, ctx -> {
                running.countDown();
                ctx.awaitStop();
            });
        }
        pool.stopChild("w7"); // no loop runs: STOPPED at once (the pool's start starts it again, as a new incarnation)
        pool.removeChild("w8");
        gov.add("pool", pool);
        GovernorHooks hooks = GovernorRuntime.hooks(gov);
        assertThat(hooks.statusLine()).isEqualTo((N - 1 - 1 + 1) + " new, 1 stopped");

        Supervisor fresh = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
        fresh.add("a", ctx -> ctx.awaitStop());
        fresh.add("b", ctx -> ctx.awaitStop());
        fresh.removeChild("a");
        gov.add("fresh", fresh);
        assertThat(hooks.statusLine()).isEqualTo((N - 1 + 2) + " new, 1 stopped");

        gov.start();
        assertThat(running.await(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
        await().atMost(BOUND).untilAsserted(() -> assertThat(hooks.statusLine()).isEqualTo((N - 1 + 3) + " running"));
        assertThat(gov.services()).hasSize(N - 1 + 3);
        gov.shutdown();
        gov.waitForShutdown();
        assertThat(hooks.statusLine()).isEqualTo((N - 1 + 3) + " stopped");
    }
}
