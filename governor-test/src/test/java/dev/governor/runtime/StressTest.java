package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorOptions;
import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.StopService;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.EventRecorder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;

/**
 * Many subtrees, random failures, and random stopChild / restartChild / removeChild calls from
 * several threads, then a shutdown. Afterwards nothing runs, no governor thread is alive, and the
 * events of every path follow the lifecycle. Real time, tiny delays: the invariants, not the
 * timing, are under test. The seed is in the failure message.
 */
class StressTest {

    @RepeatedTest(3)
    void shouldKeepEveryInvariantUnderRandomFailuresAndConcurrentOperations() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Governor gov = Governor.create(GovernorOptions.builder()
                .systemd(false)
                .serviceShutdownTimeout(Duration.ofSeconds(20))
                .shutdownTimeout(Duration.ofSeconds(60))
                .build());
        EventRecorder rec = new EventRecorder();
        gov.onEvent(rec);
        gov.restartPolicy(RestartPolicy.always(Duration.ofMillis(1)));
        List<String> paths = new ArrayList<>();
        Map<String, Supervisor> parents = new java.util.concurrent.ConcurrentHashMap<>();
        Strategy[] strategies = Strategy.values();
        for (int s = 0; s < 6; s++) {
            Supervisor sup = Supervisor.create(strategies[s % 3]);
            Supervisor inner = Supervisor.create(strategies[(s + 1) % 3]);
            for (int c = 0; c < 4; c++) {
                inner.add("w" + c, randomService(random.nextLong())).restartPolicy(randomPolicy(random));
                paths.add("s" + s + "/inner/w" + c);
                parents.put("s" + s + "/inner/w" + c, inner);
            }
            sup.add("inner", inner).restart(Duration.ofMillis(2));
            paths.add("s" + s + "/inner");
            for (int c = 0; c < 5; c++) {
                sup.add("w" + c, randomService(random.nextLong())).restartPolicy(randomPolicy(random));
                paths.add("s" + s + "/w" + c);
                parents.put("s" + s + "/w" + c, sup);
            }
            gov.add("s" + s, sup).restart(Duration.ofMillis(2));
            paths.add("s" + s);
        }
        gov.add("anchor", ctx -> ctx.awaitStop()); // keeps the natural end away
        gov.start();

        List<Thread> pokers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            long pokerSeed = random.nextLong();
            pokers.add(Thread.ofVirtual().start(() -> poke(gov, paths, parents, new Random(pokerSeed), 250)));
        }
        for (Thread t : pokers) {
            t.join(Duration.ofSeconds(120));
            assertThat(t.isAlive()).as("seed " + seed + ": a poker is stuck").isFalse();
        }
        gov.shutdown();
        assertThat(rec.events().size())
                .as("seed " + seed + ": the tree was busy")
                .isGreaterThan(500);

        String context = "seed " + seed;
        // a child added to a supervisor that was not running at the time stays NEW: it never ran
        List<ServiceInfo> left = gov.services().stream()
                .filter(i -> !i.state().isTerminal() && i.state() != ServiceState.NEW)
                .toList();
        assertThat(left).as(context + ": nothing runs after shutdown").isEmpty();
        await().atMost(Duration.ofSeconds(30))
                .alias(context + ": no governor thread alive")
                .until(() -> GovernorRuntime.hooks(gov).liveThreads().isEmpty());
        checkLifecycles(rec.events(), context);
    }

    private static void poke(
            Governor gov, List<String> paths, Map<String, Supervisor> parents, Random random, int ops) {
        for (int i = 0; i < ops; i++) {
            String path = paths.get(random.nextInt(paths.size()));
            try {
                switch (random.nextInt(10)) {
                    case 0, 1, 2, 3 -> gov.restartChild(path);
                    case 4, 5, 6 -> gov.stopChild(path);
                    case 7 -> {
                        Supervisor parent = parents.get(path);
                        if (parent != null) { // a leaf: remove it, then add a new one under the same name
                            gov.removeChild(path);
                            parent.add(path.substring(path.lastIndexOf('/') + 1), randomService(random.nextLong()))
                                    .restartPolicy(randomPolicy(random))
                                    .start();
                        }
                    }
                    default -> gov.services();
                }
            } catch (IllegalArgumentException | IllegalStateException expected) {
                // a name being removed, or a supervisor that is not running at this moment
            }
        }
    }

    private static RestartPolicy randomPolicy(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> RestartPolicy.never();
            case 1 -> RestartPolicy.onFailure(Duration.ofMillis(random.nextInt(3)));
            case 2 -> RestartPolicy.always(Duration.ofMillis(random.nextInt(3))).withLimit(50, Duration.ofSeconds(1));
            default -> RestartPolicy.always(Duration.ZERO).withBackoff(Duration.ofMillis(5), 2.0, 0.5);
        };
    }

    private static Service randomService(long seed) {
        return ctx -> {
            Random r = new Random(seed + ctx.attempt());
            if (ctx.sleep(Duration.ofMillis(r.nextInt(5)))) {
                return;
            }
            switch (r.nextInt(6)) {
                case 0 -> throw new IllegalStateException("random failure");
                case 1 -> throw new StopService("random stop");
                case 2 -> {} // completes
                default -> ctx.awaitStop();
            }
        };
    }

    /** Per path: a run is Started, maybe Ready, then ends once; Restarting only between runs. */
    static void checkLifecycles(List<GovernorEvent> events, String context) {
        Map<String, Boolean> running = new HashMap<>();
        Map<String, Boolean> timedOut = new HashMap<>();
        for (GovernorEvent e : events) {
            String p = e.service();
            if (p.isEmpty()) {
                continue;
            }
            boolean isRunning = running.getOrDefault(p, false);
            String parent = p.contains("/") ? p.substring(0, p.lastIndexOf('/')) : "";
            List<String> history = events.subList(0, events.indexOf(e) + 1).stream()
                    .filter(x -> x.service().equals(p) || x.service().equals(parent))
                    .map(x -> x.getClass().getSimpleName() + "(" + x.service() + ")")
                    .toList();
            String where =
                    context + ": " + e + " after " + (isRunning ? "a running" : "no") + " run; history " + history;
            switch (e) {
                case GovernorEvent.Started s -> {
                    assertThat(isRunning).as(where).isFalse();
                    running.put(p, true);
                }
                case GovernorEvent.Ready r -> assertThat(isRunning).as(where).isTrue();
                case GovernorEvent.Completed c -> end(running, p, isRunning, where);
                case GovernorEvent.StoppedOnPurpose c -> end(running, p, isRunning, where);
                case GovernorEvent.Failed c -> end(running, p, isRunning, where);
                case GovernorEvent.Stopped c -> {
                    assertThat(isRunning || timedOut.getOrDefault(p, false))
                            .as(where)
                            .isTrue();
                    running.put(p, false);
                    timedOut.put(p, false);
                }
                case GovernorEvent.StopTimedOut t -> timedOut.put(p, true);
                case GovernorEvent.Restarting r ->
                    assertThat(isRunning).as(where).isFalse();
                case GovernorEvent.Escalated x -> {}
                case GovernorEvent.ShutdownRequested x ->
                    assertThat(p).as(where).isEmpty();
                case GovernorEvent.Reloaded x -> {}
                case GovernorEvent.ReloadRefused x -> {}
                case GovernorEvent.UpgradeStarted x -> {}
                case GovernorEvent.UpgradeFailed x -> {}
            }
        }
        assertThat(running.entrySet().stream()
                        .filter(Map.Entry::getValue)
                        .map(Map.Entry::getKey)
                        .toList())
                .as(context + ": runs with no end event")
                .isEmpty();
    }

    private static void end(Map<String, Boolean> running, String path, boolean isRunning, String where) {
        assertThat(isRunning).as(where).isTrue();
        running.put(path, false);
    }

    static List<ServiceState> states(Governor gov) {
        return gov.services().stream().map(ServiceInfo::state).toList();
    }
}
