package dev.governor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent.Escalated;
import dev.governor.GovernorEvent.Failed;
import dev.governor.GovernorEvent.Ready;
import dev.governor.GovernorEvent.Restarting;
import dev.governor.GovernorEvent.Started;
import dev.governor.RestartPolicy;
import dev.governor.ServiceCtx;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.test.EventRecorder;
import dev.governor.test.GovernorTest;
import dev.governor.test.VirtualClock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * Issue 13, W2: a zero-delay restart of a failure is decided on the ending run's own thread (no
 * round trip through the loop), and nothing else changes: the loop reports the failure, the
 * restart and the start in order with the same attempt numbers; a stop or a shutdown racing the
 * successor's start either closes the slot first or takes the successor over and stops it (an
 * escaped run would park forever and fail the kit's live-thread check); policies with a delay,
 * a limit or an intensity, and other strategies, keep the loop's path.
 */
@GovernorTest
class OnThreadRestartTest {
    private static final Duration LONG = Duration.ofSeconds(30);
    private static final RestartPolicy AT_ONCE = RestartPolicy.onFailure(Duration.ZERO);

    /** A failure without a stack trace: thousands of them are cheap, and their log lines short. */
    static final class Boom extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Boom(int attempt) {
            super("boom " + attempt, null, false, false);
        }
    }

    private static final InheritableThreadLocal<String> CARRIED = new InheritableThreadLocal<>();

    /**
     * What a failed run set on its thread never reaches the next run, on either path: every run
     * starts with no inheritable thread-local and with the governor's context class loader.
     */
    @Test
    void shouldStartEveryRunCleanWhateverItsPredecessorSetOnItsThread(Governor gov) throws Exception {
        ClassLoader expected = Thread.currentThread().getContextClassLoader();
        int cycles = 50;
        List<RestartPolicy> policies =
                List.of(AT_ONCE, AT_ONCE.withLimit(cycles + 1, LONG)); // on its thread; the loop's
        List<List<String>> seen = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(policies.size());
        for (int p = 0; p < policies.size(); p++) {
            List<String> runs = new CopyOnWriteArrayList<>();
            seen.add(runs);
            gov.add("s" + p, ctx -> {
                        ClassLoader loader = Thread.currentThread().getContextClassLoader();
                        runs.add(CARRIED.get() + "/" + (loader == expected));
                        if (ctx.attempt() >= cycles) {
                            done.countDown();
                            ctx.awaitStop();
                            return;
                        }
                        CARRIED.set("from attempt " + ctx.attempt());
                        Thread.currentThread().setContextClassLoader(new ClassLoader(loader) {});
                        throw new Boom(ctx.attempt());
                    })
                    .restartPolicy(policies.get(p));
        }
        gov.start();
        assertThat(done.await(LONG.toSeconds(), TimeUnit.SECONDS))
                .as("%s", seen)
                .isTrue();
        for (List<String> runs : seen) {
            assertThat(runs).hasSize(cycles + 1).containsOnly("null/true"); // attempts 0 to cycles
        }
    }

    @Test
    void shouldRestartOnTheEndingThreadWhileTheLoopIsBusyAndReportItAllAfterwards(Governor gov, EventRecorder rec)
            throws Exception {
        CountDownLatch slowIn = new CountDownLatch(1);
        CountDownLatch slowOut = new CountDownLatch(1);
        gov.add("slow", ctx -> {
            slowIn.countDown();
            awaitUninterruptibly(slowOut); // its stop keeps the loop busy until the test lets it end
        });
        CountDownLatch firstIn = new CountDownLatch(1);
        CountDownLatch firstFails = new CountDownLatch(1);
        AtomicInteger entries = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        int failures = 1_100; // more than Handoff.Open.K (1,024)
        gov.add("flaky", ctx -> {
                    int n = entries.incrementAndGet();
                    synchronized (threads) {
                        threads.add(Thread.currentThread());
                    }
                    if (n == 1) {
                        firstIn.countDown();
                        awaitUninterruptibly(firstFails);
                    }
                    failUntil(ctx, failures);
                })
                .restartPolicy(AT_ONCE);
        gov.start();
        assertThat(slowIn.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(firstIn.await(30, TimeUnit.SECONDS)).isTrue();

        CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> gov.stopChild("slow"));
        EventRecorder.awaitState(gov, "slow", ServiceState.STOPPING); // the loop now waits in that stop
        firstFails.countDown();

        // with the loop busy, the failing run's own thread restarted it, and so on: up to 1,024 runs ahead of the loop
        await().atMost(LONG).until(() -> entries.get() == 1_025);
        Thread last;
        synchronized (threads) {
            last = threads.get(1_024);
        }
        last.join(TimeUnit.SECONDS.toMillis(30));
        assertThat(last.isAlive()).isFalse();
        assertThat(entries.get())
                .as("the 1,025th run waits for the loop before any further restart")
                .isEqualTo(1_025);
        assertThat(gov.service("flaky").orElseThrow().restarts())
                .as("nothing of it was published yet: only the loop publishes")
                .isZero();
        assertThat(stopping).isNotDone();

        slowOut.countDown();
        stopping.get(30, TimeUnit.SECONDS);
        rec.awaitEvent(Started.class, "flaky", failures + 1);
        assertCycles(rec, gov, "flaky", failures);
        // the last run's Started can come before its body counted itself
        await().atMost(LONG).untilAsserted(() -> assertThat(entries.get()).isEqualTo(failures + 1));
    }

    @Test
    void shouldReportEveryCycleInOrderOverManyFastFailures(Governor gov, EventRecorder rec) throws Exception {
        int failures = 1_000;
        gov.add("flaky", ctx -> failUntil(ctx, failures)).restartPolicy(AT_ONCE);
        gov.start();
        rec.awaitEvent(Started.class, "flaky", failures + 1);
        assertCycles(rec, gov, "flaky", failures);
    }

    /**
     * A chain restarting on its own threads wakes the loop once every few runs and leaves the
     * reports in between to the next message about it or to the sweep (LateReports): bursts of
     * failures, each ending with a run that keeps running without a word to its ctx (so no later
     * message comes), are all reported in order with the info up to date, burst after burst (a
     * quiet chain is unwatched and watched again at the next burst).
     */
    @Test
    void shouldReportTheLastRunsOfABurstWhileItsLastRunKeepsRunningSilently(Governor gov, EventRecorder rec)
            throws Exception {
        int bursts = 6;
        int perBurst = 1_203; // not a multiple of the batch (512): runs are left to the sweep at the end of each burst
        AtomicInteger failBelow = new AtomicInteger(perBurst);
        LinkedBlockingQueue<CountDownLatch> holds = new LinkedBlockingQueue<>();
        gov.add("flaky", ctx -> {
                    if (ctx.attempt() < failBelow.get()) {
                        throw new Boom(ctx.attempt());
                    }
                    CountDownLatch hold = new CountDownLatch(1);
                    holds.add(hold);
                    hold.await(); // not its ctx: nothing of this run reaches the loop until it ends
                    throw new Boom(ctx.attempt());
                })
                .restartPolicy(AT_ONCE);
        gov.start();
        int held = perBurst;
        for (int b = 1; b <= bursts; b++) {
            CountDownLatch hold = holds.poll(30, TimeUnit.SECONDS);
            assertThat(hold).as("burst %d held", b).isNotNull();
            rec.awaitEvent(Ready.class, "flaky", held + 1); // the last event of the held run's start
            assertCycles(rec, gov, "flaky", held);
            if (b < bursts) {
                held += 1 + perBurst;
                failBelow.set(held);
                hold.countDown(); // the held run fails too, and the next burst begins
            }
        }
    }

    /**
     * An end that did not wake the loop still comes before any message posted after it: an
     * operation asked once a run's thread has ended (here a start of a running child, which does
     * nothing but pass through the loop) returns with that run's failure and restart reported, as
     * when every end woke the loop (SupervisionModelTest relies on it between its steps). The run
     * after it waits, so that no later end wakes the loop in between.
     */
    @Test
    void shouldHandleAMessagePostedAfterARunsEndAfterThatEndsReport(Governor gov, EventRecorder rec) throws Exception {
        int failures = 4_000;
        LinkedBlockingQueue<Thread> ended = new LinkedBlockingQueue<>();
        java.util.Map<Integer, CountDownLatch> gates = new java.util.concurrent.ConcurrentHashMap<>();
        for (int a = 250; a < failures; a += 500) {
            gates.put(a + 1, new CountDownLatch(1));
        }
        var keeper = gov.add("keeper", ServiceCtx::awaitStop);
        gov.add("flaky", ctx -> {
                    if (ctx.attempt() % 500 == 250) {
                        ended.add(Thread.currentThread());
                    }
                    CountDownLatch gate = gates.get(ctx.attempt());
                    if (gate != null) {
                        gate.await(); // nothing of the chain wakes the loop meanwhile
                    }
                    failUntil(ctx, failures);
                })
                .restartPolicy(AT_ONCE);
        gov.start();
        for (int a = 250; a < failures; a += 500) {
            int attempt = a;
            Thread t = ended.poll(30, TimeUnit.SECONDS); // at once: a poll interval would let the sweep come first
            assertThat(t).as("attempt %d entered", attempt).isNotNull();
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertThat(t.isAlive()).isFalse();
            keeper.start(); // running already: a message through the loop, posted after attempt's end
            assertThat(gov.service("flaky").orElseThrow().restarts())
                    .as("restarts once attempt %d ended and a later message was handled", attempt)
                    .isEqualTo(attempt + 1);
            gates.get(attempt + 1).countDown();
        }
        rec.awaitEvent(Ready.class, "flaky", failures + 1);
        assertCycles(rec, gov, "flaky", failures);
    }

    /**
     * Runs taken over in a batch are published once, before their events: a listener that hears of
     * a start reads a ServiceInfo at least as recent as that start (never an older attempt).
     */
    @Test
    void shouldPublishTheStateOfABatchBeforeItsEvents(Governor gov, EventRecorder rec) throws Exception {
        int failures = 2_000;
        List<String> behind = new CopyOnWriteArrayList<>();
        gov.onEvent(e -> {
            if (e instanceof Started s && s.service().equals("flaky")) {
                int restarts = gov.service("flaky").orElseThrow().restarts();
                if (restarts < s.attempt()) {
                    behind.add("Started(" + s.attempt() + ") read restarts " + restarts);
                }
            }
        });
        gov.add("flaky", ctx -> failUntil(ctx, failures)).restartPolicy(AT_ONCE);
        gov.start();
        rec.awaitEvent(Ready.class, "flaky", failures + 1);
        assertCycles(rec, gov, "flaky", failures);
        assertThat(behind).isEmpty();
    }

    @Test
    void shouldOrderAReadinessOfARunStartedOnItsPredecessorsThreadAfterItsStart(Governor gov, EventRecorder rec)
            throws Exception {
        int failures = 300;
        gov.add("flaky", ctx -> {
                    ctx.markReady(); // may reach the loop before it hears of the start made on the ending thread
                    failUntil(ctx, failures);
                })
                .readyOnStart(false)
                .restartPolicy(AT_ONCE);
        gov.start();
        rec.awaitEvent(Started.class, "flaky", failures + 1);
        await().atMost(LONG).until(() -> gov.service("flaky").orElseThrow().ready());
        List<String> expected = new ArrayList<>(List.of("Started", "Ready"));
        for (int k = 1; k <= failures; k++) {
            expected.addAll(List.of("Failed", "Restarting", "Started", "Ready"));
        }
        assertThat(rec.sequence("flaky")).containsExactlyElementsOf(expected);
        assertThat(rec.events(Started.class, "flaky"))
                .extracting(Started::attempt)
                .isEqualTo(range(failures + 1));
    }

    @Test
    void shouldNeverLetARunEscapeAStopRacingItsRestart(Governor gov, EventRecorder rec) throws Exception {
        LinkedBlockingQueue<Gate> gates = new LinkedBlockingQueue<>();
        ConcurrentLinkedQueue<Gate> all = new ConcurrentLinkedQueue<>();
        gov.add("keeper", ServiceCtx::awaitStop); // the governor does not end with flaky stopped
        gov.add("flaky", gatedService(gates, all)).restartPolicy(AT_ONCE);
        gov.start();
        for (int i = 0; i < 200; i++) {
            Gate g = gates.poll(30, TimeUnit.SECONDS);
            assertThat(g).as("run %d entered", i).isNotNull();
            int spins = ThreadLocalRandom.current().nextInt(2_000);
            Thread releaser = Thread.ofVirtual().start(() -> {
                for (int s = 0; s < spins; s++) {
                    Thread.onSpinWait();
                }
                g.release();
            });
            gov.stopChild("flaky");
            releaser.join();
            // the release may win: a run that fails just before its stop is reported as what it did
            // (README, "What happened, even during a stop"), and a stop never restarts it
            ServiceInfo flaky = gov.service("flaky").orElseThrow();
            assertThat(flaky.state()).isIn(ServiceState.STOPPED, ServiceState.FAILED);
            if (flaky.state() == ServiceState.FAILED) {
                assertThat(flaky.lastFailure()).containsInstanceOf(Boom.class);
            }
            for (Gate e : all) {
                assertThat(e.ended)
                        .as("iteration %d: every run that entered has ended once stopChild returned", i)
                        .isTrue();
            }
            gates.clear();
            gov.restartChild("flaky");
        }
        Gate last = gates.poll(30, TimeUnit.SECONDS);
        assertThat(last).isNotNull();
        // every run was reported, the ones started on their predecessors' threads included
        await().atMost(LONG).until(() -> rec.events(Started.class, "flaky").size() == all.size());
        // a run that escaped a stop would park in its gate forever: the kit's live-thread check fails then
    }

    @Test
    void shouldNeverLetARunEscapeAShutdownRacingItsRestart() throws Exception {
        for (int i = 0; i < 60; i++) {
            VirtualClock clock = new VirtualClock();
            Governor gov = Governor.create(clock.options());
            LinkedBlockingQueue<Gate> gates = new LinkedBlockingQueue<>();
            ConcurrentLinkedQueue<Gate> all = new ConcurrentLinkedQueue<>();
            gov.add("flaky", gatedService(gates, all)).restartPolicy(AT_ONCE);
            gov.start();
            Gate g = gates.poll(30, TimeUnit.SECONDS);
            assertThat(g).isNotNull();
            int spins = ThreadLocalRandom.current().nextInt(2_000);
            Thread releaser = Thread.ofVirtual().start(() -> {
                for (int s = 0; s < spins; s++) {
                    Thread.onSpinWait();
                }
                g.release();
            });
            gov.shutdown();
            releaser.join();
            ShutdownReport report = gov.waitForShutdown();
            assertThat(report.unstopped()).isEmpty();
            for (Gate e : all) {
                assertThat(e.ended)
                        .as("iteration %d: every run that entered ended by the end of the shutdown", i)
                        .isTrue();
            }
            await().atMost(LONG)
                    .until(() -> GovernorRuntime.hooks(gov).liveThreads().isEmpty());
        }
    }

    @Test
    void shouldKeepTheLoopsPathForALimitedPolicy(Governor gov, EventRecorder rec) throws Exception {
        AtomicInteger entries = new AtomicInteger();
        gov.add("limited", ctx -> {
                    entries.incrementAndGet();
                    throw new Boom(ctx.attempt());
                })
                .restartPolicy(AT_ONCE.withLimit(3, Duration.ofMinutes(1)));
        gov.start();
        rec.awaitEvent(e -> e instanceof Escalated);
        gov.waitForShutdown();
        assertThat(entries.get())
                .as("3 restarts allowed, the 4th failure escalates")
                .isEqualTo(4);
        assertThat(gov.service("limited").orElseThrow().state()).isEqualTo(ServiceState.FAILED);
        assertThat(rec.events(Started.class, "limited")).hasSize(4);
    }

    @Test
    void shouldKeepTheLoopsPathUnderAnIntensity(Governor gov, EventRecorder rec) throws Exception {
        AtomicInteger entries = new AtomicInteger();
        gov.intensity(2, Duration.ofMinutes(1));
        gov.add("flaky", ctx -> {
                    entries.incrementAndGet();
                    throw new Boom(ctx.attempt());
                })
                .restartPolicy(AT_ONCE);
        gov.start();
        rec.awaitEvent(e -> e instanceof Escalated);
        gov.waitForShutdown();
        assertThat(entries.get())
                .as("2 restarts allowed, the 3rd failure escalates")
                .isEqualTo(3);
    }

    @Test
    void shouldKeepTheLoopsPathForADelay(Governor gov, EventRecorder rec, VirtualClock clock) throws Exception {
        AtomicInteger entries = new AtomicInteger();
        gov.add("delayed", ctx -> {
                    entries.incrementAndGet();
                    throw new Boom(ctx.attempt());
                })
                .restartPolicy(RestartPolicy.onFailure(Duration.ofSeconds(1)));
        gov.start();
        rec.awaitEvent(Restarting.class, "delayed");
        assertThat(clock.pending()).contains(Duration.ofSeconds(1));
        assertThat(entries.get()).as("nothing restarts before the delay").isEqualTo(1);
        assertThat(gov.service("delayed").orElseThrow().state()).isEqualTo(ServiceState.RESTARTING);
        clock.advance(Duration.ofSeconds(1));
        rec.awaitEvent(Started.class, "delayed", 2);
    }

    @Test
    void shouldRestartTheWholeGroupUnderOneForAll(Governor gov, EventRecorder rec) throws Exception {
        Supervisor group = Supervisor.create(Strategy.ONE_FOR_ALL);
        int failures = 20;
        group.add("steady", ServiceCtx::awaitStop).restartPolicy(RestartPolicy.always(Duration.ZERO));
        group.add("flaky", ctx -> failUntil(ctx, failures)).restartPolicy(AT_ONCE);
        gov.add("group", group);
        gov.start();
        rec.awaitEvent(Started.class, "group/flaky", failures + 1);
        rec.awaitEvent(Started.class, "group/steady", failures + 1);
        assertThat(rec.events(Started.class, "group/steady"))
                .extracting(Started::attempt)
                .as("each failure of flaky restarted steady too")
                .isEqualTo(range(failures + 1));
    }

    // ---- helpers ----

    /** Fails (with its attempt) while the run's attempt is below {@code failures}, then waits for its stop. */
    private static void failUntil(ServiceCtx ctx, int failures) throws InterruptedException {
        if (ctx.attempt() < failures) {
            throw new Boom(ctx.attempt());
        }
        ctx.awaitStop();
    }

    /** Failed(k) → Restarting(0) → Started(k+1) → Ready for every failure, the attempts in a row, and the info. */
    private static void assertCycles(EventRecorder rec, Governor gov, String path, int failures) {
        List<String> expected = new ArrayList<>(List.of("Started", "Ready"));
        for (int k = 1; k <= failures; k++) {
            expected.addAll(List.of("Failed", "Restarting", "Started", "Ready"));
        }
        assertThat(rec.sequence(path)).containsExactlyElementsOf(expected);
        assertThat(rec.events(Started.class, path)).extracting(Started::attempt).isEqualTo(range(failures + 1));
        assertThat(rec.events(Failed.class, path))
                .extracting(f -> f.cause().getMessage())
                .isEqualTo(range(failures).stream().map(k -> "boom " + k).toList());
        assertThat(rec.events(Restarting.class, path)).allMatch(r -> r.delay().isZero());
        ServiceInfo info = gov.service(path).orElseThrow();
        assertThat(info.state()).isEqualTo(ServiceState.RUNNING);
        assertThat(info.restarts()).isEqualTo(failures);
        assertThat(info.lastFailure()).get().extracting(Throwable::getMessage).isEqualTo("boom " + (failures - 1));
    }

    private static List<Integer> range(int n) {
        List<Integer> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(i);
        }
        return out;
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** One run's gate: the run parks until released (then fails) or stopped (then returns). */
    static final class Gate {
        final Thread thread = Thread.currentThread();
        volatile boolean released;
        volatile boolean ended;

        void release() {
            released = true;
            LockSupport.unpark(thread);
        }
    }

    private static dev.governor.Service gatedService(LinkedBlockingQueue<Gate> gates, ConcurrentLinkedQueue<Gate> all) {
        return ctx -> {
            Gate g = new Gate();
            all.add(g);
            gates.add(g);
            try {
                while (!g.released) {
                    if (ctx.stopping()) {
                        return;
                    }
                    LockSupport.park();
                    if (Thread.interrupted() && ctx.stopping()) {
                        return;
                    }
                }
                throw new Boom(ctx.attempt());
            } finally {
                g.ended = true;
            }
        };
    }
}
