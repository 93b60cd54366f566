package dev.governor.samples;

import dev.governor.Governor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A daemon for the watchdog test: a steady service, and one that fails for good (no restart, so it
 * stays FAILED while the tree runs on) once the file named by its argument appears.
 */
public final class WatchdogDaemon {
    private WatchdogDaemon() {}

    public static void main(String[] args) {
        Path trigger = Path.of(args[0]);
        Governor gov = Governor.create();
        gov.add("steady", ctx -> ctx.awaitStop());
        gov.add("doomed", ctx -> {
                    while (!Files.exists(trigger)) {
                        if (ctx.sleep(Duration.ofMillis(20))) {
                            return;
                        }
                    }
                    throw new IllegalStateException("doomed on purpose: " + trigger + " appeared");
                })
                .noRestart();
        System.exit(gov.catchSignals().start().waitForShutdown().exitCode());
    }
}
