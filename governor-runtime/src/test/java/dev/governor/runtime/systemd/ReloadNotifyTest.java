package dev.governor.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.runtime.GovernorRuntime;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** systemd hears of a reload of generations: RELOADING=1, then READY=1 with a STATUS naming the outcome. */
class ReloadNotifyTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aRefusedReloadEndsWithReadyAndAStatusNamingTheError() throws Exception {
        AtomicBoolean broken = new AtomicBoolean();
        try (NotifyReceiver systemd = NotifyReceiver.bind(SdNotifyTest.abstractName("reload-refused"));
                Governor gov = Governor.create(GovernorOptions.defaults())) {
            new SystemdExtension(java.util.Map.of("NOTIFY_SOCKET", systemd.address()), SdNotify.to(systemd.address()))
                    .install(GovernorRuntime.hooks(gov));
            gov.addReloadable("app", (generation, number) -> {
                if (broken.get()) {
                    throw new IllegalArgumentException("app.conf line 2: greeting must not be empty");
                }
                generation.add("http", ctx -> ctx.awaitStop());
            });
            gov.start();
            NotifyReceiver.Message ready = systemd.await(m -> m.has("READY", "1"), WAIT);

            assertThat(gov.reload()).isTrue();
            NotifyReceiver.Message reloading =
                    systemd.awaitAfter(systemd.indexOf(ready), m -> m.has("RELOADING", "1"), WAIT);
            assertThat(reloading.get("MONOTONIC_USEC")).isPresent();
            NotifyReceiver.Message reloaded =
                    systemd.awaitAfter(systemd.indexOf(reloading), m -> m.has("READY", "1"), WAIT);
            assertThat(reloaded.get("STATUS").orElseThrow()).startsWith("reloaded: ");

            broken.set(true);
            assertThat(gov.reload()).isFalse();
            NotifyReceiver.Message again =
                    systemd.awaitAfter(systemd.indexOf(reloaded), m -> m.has("RELOADING", "1"), WAIT);
            NotifyReceiver.Message refused = systemd.awaitAfter(systemd.indexOf(again), m -> m.has("READY", "1"), WAIT);
            assertThat(refused.get("STATUS").orElseThrow())
                    .startsWith(
                            "reload refused, previous generation kept: generation 3 of"
                                    + " \"app\" refused: java.lang.IllegalArgumentException: app.conf line 2: greeting must not be empty (");
        }
    }
}
