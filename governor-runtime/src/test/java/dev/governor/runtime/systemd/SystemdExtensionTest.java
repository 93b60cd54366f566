package dev.governor.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.runtime.GovernorRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The extension on a live governor, in-process: a receiver stands in for systemd and the
 * extension is given the environment systemd would set.
 */
class SystemdExtensionTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
    }

    private NotifyReceiver receiver(String what) throws Exception {
        NotifyReceiver r = NotifyReceiver.bind(SdNotifyTest.abstractName(what));
        toClose.add(r);
        return r;
    }

    private Governor governor(GovernorOptions options, NotifyReceiver systemd, Map<String, String> extraEnv)
            throws Exception {
        Governor gov = Governor.create(options);
        toClose.add(gov::close);
        Map<String, String> env = new java.util.HashMap<>(extraEnv);
        env.put("NOTIFY_SOCKET", systemd.address());
        new SystemdExtension(env, SdNotify.to(systemd.address())).install(GovernorRuntime.hooks(gov));
        return gov;
    }

    private static List<String> texts(NotifyReceiver r) {
        return r.messages().stream().map(NotifyReceiver.Message::text).toList();
    }

    @Test
    void readyOnlyOnceEveryServiceIsReadyThenStatusThenStoppingWithATimeoutExtension() throws Exception {
        NotifyReceiver systemd = receiver("lifecycle");
        Governor gov = governor(GovernorOptions.defaults(), systemd, Map.of());
        CountDownLatch mayBeReady = new CountDownLatch(1);
        gov.add("slow", ctx -> {
                    mayBeReady.await();
                    ctx.markReady();
                    ctx.awaitStop();
                })
                .readyOnStart(false);
        gov.add("quick", ctx -> ctx.awaitStop());
        gov.start();

        systemd.await(m -> m.get("STATUS").orElse("").contains("2 running"), WAIT);
        assertThat(texts(systemd)).noneMatch(t -> t.contains("READY=1"));
        mayBeReady.countDown();
        NotifyReceiver.Message ready = systemd.await(m -> m.has("READY", "1"), WAIT);
        assertThat(ready.fields()).containsEntry("STATUS", "2 running").doesNotContainKey("MAINPID");

        gov.shutdown();
        NotifyReceiver.Message stopping = systemd.await(m -> m.has("STOPPING", "1"), WAIT);
        assertThat(stopping.fields())
                .containsEntry("STATUS", "stopping: shutdown() called")
                .containsEntry("EXTEND_TIMEOUT_USEC", Long.toString((30 + 5) * 1_000_000L));
        systemd.await(m -> m.get("STATUS").orElse("").startsWith("stopped, exit code 0"), WAIT);
        assertThat(systemd.indexOf(stopping)).isGreaterThan(systemd.indexOf(ready));
    }

    @Test
    void reloadIsBracketedByReloadingWithTheMonotonicClockAndReady() throws Exception {
        NotifyReceiver systemd = receiver("reload");
        Governor gov = governor(GovernorOptions.defaults(), systemd, Map.of());
        gov.add("svc", ctx -> ctx.awaitStop());
        gov.onReload(g -> {});
        gov.start();
        NotifyReceiver.Message ready = systemd.await(m -> m.has("READY", "1"), WAIT);

        long before = TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
        assertThat(gov.reload()).isTrue();
        NotifyReceiver.Message reloading = systemd.await(m -> m.has("RELOADING", "1"), WAIT);
        long usec = Long.parseLong(reloading.get("MONOTONIC_USEC").orElseThrow());
        assertThat(usec).isBetween(before, TimeUnit.NANOSECONDS.toMicros(System.nanoTime()));
        NotifyReceiver.Message readyAgain =
                systemd.awaitAfter(systemd.indexOf(reloading), m -> m.has("READY", "1"), WAIT);
        assertThat(readyAgain.fields()).containsEntry("STATUS", "reloaded: 1 running");
        assertThat(systemd.indexOf(reloading)).isGreaterThan(systemd.indexOf(ready));
    }

    @Test
    void watchdogPingsEveryHalfPeriodWhileHealthyAndIsWithheldOnceAServiceFailed() throws Exception {
        NotifyReceiver systemd = receiver("watchdog");
        Governor gov = governor(
                GovernorOptions.defaults(),
                systemd,
                Map.of(
                        "WATCHDOG_USEC",
                        "200000",
                        "WATCHDOG_PID",
                        Long.toString(ProcessHandle.current().pid())));
        CountDownLatch fail = new CountDownLatch(1);
        gov.add("steady", ctx -> ctx.awaitStop());
        gov.add("doomed", ctx -> {
                    fail.await();
                    throw new IllegalStateException("doomed on purpose");
                })
                .noRestart();
        gov.start();
        int readyAt = systemd.indexOf(systemd.await(m -> m.has("READY", "1"), WAIT));

        // 20 pings at 100 ms take 2 s; allow a slow machine ten times that. The exact schedule (one ping
        // per half period, none before time moves, none after a failure) is checked on injected time in
        // WatchdogOnInjectedTimeTest; here the real scheduler only has to keep pinging.
        await().atMost(WAIT).until(() -> pingsAfter(systemd, readyAt).size() >= 20);
        List<Long> times = pingsAfter(systemd, readyAt).stream()
                .map(NotifyReceiver.Message::receivedNanos)
                .toList();
        List<Long> gapsMillis = new ArrayList<>();
        for (int i = 1; i < times.size(); i++) {
            gapsMillis.add(TimeUnit.NANOSECONDS.toMillis(times.get(i) - times.get(i - 1)));
        }
        System.out.printf("watchdog gaps (ms) with WATCHDOG_USEC=200000: %s%n", gapsMillis);

        fail.countDown();
        NotifyReceiver.Message failed =
                systemd.await(m -> m.get("STATUS").orElse("").contains("1 failed"), WAIT);
        int failedAt = systemd.indexOf(failed);
        // a tick that read healthy() just before the failure may still land; none after one more period
        long quietFrom = failed.receivedNanos() + TimeUnit.MILLISECONDS.toNanos(150);
        await().during(Duration.ofMillis(1500))
                .atMost(WAIT)
                .until(() -> pingsAfter(systemd, failedAt).stream().noneMatch(m -> m.receivedNanos() > quietFrom));
        assertThat(gov.isReady())
                .as("the tree still runs: only the watchdog tells systemd")
                .isTrue();
    }

    private static List<NotifyReceiver.Message> pingsAfter(NotifyReceiver r, int index) {
        List<NotifyReceiver.Message> all = r.messages();
        return all.subList(index + 1, all.size()).stream()
                .filter(m -> m.has("WATCHDOG", "1"))
                .toList();
    }

    @Test
    void aLongShutdownThatKeepsMakingProgressExtendsTheStopTimeout() throws Exception {
        NotifyReceiver systemd = receiver("extend");
        GovernorOptions options = GovernorOptions.builder()
                .drainDelay(Duration.ofMillis(100))
                .shutdownTimeout(Duration.ofSeconds(20))
                .build();
        Governor gov = governor(options, systemd, Map.of());
        gov.add("quick", ctx -> ctx.awaitStop());
        gov.add("slow", ctx -> {
                    ctx.awaitStop();
                    // a service that needs a while to wind down (a flush, a drain of in-flight work), deaf to
                    // interrupts
                    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1500);
                    for (long left; (left = until - System.nanoTime()) > 0; ) {
                        Thread.interrupted();
                        java.util.concurrent.locks.LockSupport.parkNanos(left);
                    }
                })
                .shutdownTimeout(Duration.ofSeconds(10));
        gov.start();
        systemd.await(m -> m.has("READY", "1"), WAIT);

        gov.shutdown();
        NotifyReceiver.Message stopping = systemd.await(m -> m.has("STOPPING", "1"), WAIT);
        assertThat(stopping.fields()).containsEntry("EXTEND_TIMEOUT_USEC", "25100000");
        NotifyReceiver.Message progress = systemd.awaitAfter(
                systemd.indexOf(stopping), m -> m.text().equals("EXTEND_TIMEOUT_USEC=25000000"), WAIT);
        assertThat(progress.receivedNanos() - stopping.receivedNanos())
                .as("renewed once a service stopped, a second or more after the last")
                .isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(1000));
    }

    @Test
    void readyNamesTheMainPidWhenThisIsNotTheProcessSystemdStarted() throws Exception {
        NotifyReceiver systemd = receiver("mainpid");
        Governor gov = governor(GovernorOptions.defaults(), systemd, Map.of("SYSTEMD_EXEC_PID", "1"));
        gov.add("svc", ctx -> ctx.awaitStop());
        gov.start();
        NotifyReceiver.Message ready = systemd.await(m -> m.has("READY", "1"), WAIT);
        assertThat(ready.fields())
                .containsEntry("MAINPID", Long.toString(ProcessHandle.current().pid()));
    }

    @Test
    void theSystemdOptionOffSendsNothing() throws Exception {
        NotifyReceiver systemd = receiver("off");
        Governor gov =
                governor(GovernorOptions.builder().systemd(false).build(), systemd, Map.of("WATCHDOG_USEC", "200000"));
        gov.add("svc", ctx -> ctx.awaitStop());
        gov.start();
        assertThat(gov.awaitReady(WAIT)).isTrue();
        gov.shutdown();
        // shutdown() returns after every lifecycle call was made: had anything been sent, it would be here
        await().during(Duration.ofMillis(500))
                .atMost(WAIT)
                .until(() -> systemd.messages().isEmpty());
    }

    @Test
    void watchdogAppliesOnlyToItsPidAndOnlyWithAPositiveNumber() {
        long pid = 4242;
        assertThat(SystemdExtension.watchdogInterval(Map.of("WATCHDOG_USEC", "200000"), pid))
                .contains(Duration.ofMillis(100));
        assertThat(SystemdExtension.watchdogInterval(Map.of("WATCHDOG_USEC", "200000", "WATCHDOG_PID", "4242"), pid))
                .contains(Duration.ofMillis(100));
        assertThat(SystemdExtension.watchdogInterval(Map.of("WATCHDOG_USEC", "200000", "WATCHDOG_PID", "1"), pid))
                .isEmpty();
        assertThat(SystemdExtension.watchdogInterval(Map.of("WATCHDOG_USEC", "abc"), pid))
                .isEmpty();
        assertThat(SystemdExtension.watchdogInterval(Map.of("WATCHDOG_USEC", "0"), pid))
                .isEmpty();
        assertThat(SystemdExtension.watchdogInterval(Map.of(), pid)).isEmpty();
    }

    @Test
    void aNotifySocketThatDoesNotExistNeverStopsTheTree() throws Exception {
        Governor gov = Governor.create();
        toClose.add(gov::close);
        new SystemdExtension(
                        Map.of("NOTIFY_SOCKET", "/nonexistent/notify", "WATCHDOG_USEC", "100000"),
                        SdNotify.to("/nonexistent/notify"))
                .install(GovernorRuntime.hooks(gov));
        gov.add("svc", ctx -> ctx.awaitStop());
        gov.start();
        assertThat(gov.awaitReady(WAIT)).isTrue();
        await().during(Duration.ofMillis(500)).atMost(WAIT).until(gov::isReady);
        gov.shutdown();
        assertThat(gov.waitForShutdown().exitCode()).isZero();
    }
}
