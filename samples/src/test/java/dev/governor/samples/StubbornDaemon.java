package dev.governor.samples;

import dev.governor.Governor;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A daemon for the signal tests: one service that ignores cancellation (so a shutdown waits its
 * full timeout) and, with {@code --reload}, a reload handler that logs.
 */
public final class StubbornDaemon {
    private StubbornDaemon() {}

    public static void main(String[] args) {
        Governor gov = Governor.create();
        if (java.util.List.of(args).contains("--reload")) {
            gov.onReload(g -> g.services().forEach(s -> System.err.println("reloaded with " + s.name())));
        }
        gov.add("polite", ctx -> ctx.awaitStop());
        CountDownLatch never = new CountDownLatch(1);
        gov.add("stubborn", ctx -> {
                    if (!java.util.List.of(args).contains("--stubborn")) {
                        ctx.awaitStop();
                        return;
                    }
                    while (true) {
                        try {
                            never.await();
                        } catch (InterruptedException ignored) {
                            // ignores interrupts on purpose: only a second signal ends this process
                        }
                    }
                })
                .shutdownTimeout(Duration.ofMinutes(10));
        gov.shutdownTimeout(Duration.ofMinutes(10));
        System.exit(gov.catchSignals().start().waitForShutdown().exitCode());
    }
}
