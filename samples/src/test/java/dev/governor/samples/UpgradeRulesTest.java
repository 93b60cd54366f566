package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.UpgradeOptions;
import dev.governor.UpgradeResult;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The rules an upgrade checks before it starts anything, and its options' checks. */
class UpgradeRulesTest {
    @Test
    void shouldRefuseAnUpgradeOnceShutdownHasBegun() throws Exception {
        List<GovernorEvent> events = new CopyOnWriteArrayList<>();
        CountDownLatch stopping = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Governor gov = Governor.create().onEvent(events::add);
        gov.add("slow-to-stop", ctx -> {
            ctx.awaitStop();
            stopping.countDown();
            release.await(30, TimeUnit.SECONDS); // the shutdown stays under way while we ask
        });
        gov.start();
        assertThat(gov.awaitReady(Duration.ofSeconds(30))).isTrue();
        gov.requestShutdown("test");
        assertThat(stopping.await(30, TimeUnit.SECONDS)).isTrue();

        UpgradeResult result = gov.upgrade(UpgradeOptions.defaults().withCommand(List.of("/bin/false")));

        assertThat(result.succeeded()).isFalse();
        assertThat(result.newPid()).isEqualTo(-1);
        assertThat(result.reason()).isEqualTo("shutdown has begun: an upgrade is refused during shutdown");
        // events reach listeners on the governor's event thread: wait for it
        GovernorEvent.UpgradeFailed failed = (GovernorEvent.UpgradeFailed) org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(
                        () -> events.stream()
                                .filter(e -> e instanceof GovernorEvent.UpgradeFailed)
                                .findFirst(),
                        java.util.Optional::isPresent)
                .orElseThrow();
        assertThat(failed.newPid()).isEqualTo(-1);
        assertThat(failed.reason()).isEqualTo(result.reason());
        assertThat(events)
                .filteredOn(e -> e instanceof GovernorEvent.UpgradeFailed)
                .hasSize(1);
        assertThat(events).noneMatch(e -> e instanceof GovernorEvent.UpgradeStarted);
        release.countDown();
        assertThat(gov.waitForShutdown().exitCode()).isZero();
    }

    @Test
    void shouldReportACommandThatCannotStart() throws Exception {
        Governor gov = Governor.create();
        gov.add("idle", ctx -> ctx.awaitStop());
        gov.start();
        try {
            UpgradeResult result =
                    gov.upgrade(UpgradeOptions.defaults().withCommand(List.of("/nonexistent/java-of-version-2")));
            assertThat(result.succeeded()).isFalse();
            assertThat(result.reason()).startsWith("cannot start /nonexistent/java-of-version-2: ");
            assertThat(gov.stopping()).as("the old process keeps serving").isFalse();
        } finally {
            gov.shutdown();
        }
    }

    @Test
    void shouldRejectBadOptionsNamingTheValue() {
        assertThatThrownBy(() -> UpgradeOptions.defaults().withReadyTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("readyTimeout must be positive, was PT0S");
        assertThatThrownBy(() -> UpgradeOptions.defaults().withReadyTimeout(Duration.ofDays(2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("readyTimeout must be at most 1 day, was PT48H");
        assertThatThrownBy(() -> UpgradeOptions.defaults().withEnvironment(Map.of("A=B", "c")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("environment variable name \"A=B\" must be non-empty, without '=' or NUL");
        assertThatThrownBy(() -> UpgradeOptions.defaults().withCommand(List.of(" ")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("command must begin with a program, was [ ]");
        assertThat(UpgradeOptions.defaults())
                .isEqualTo(new UpgradeOptions(List.of(), Duration.ofSeconds(60), Map.of()));
    }
}
