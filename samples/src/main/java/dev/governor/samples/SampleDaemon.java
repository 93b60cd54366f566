package dev.governor.samples;

import dev.governor.Governor;
import dev.governor.RestartPolicy;
import dev.governor.ShutdownReport;
import java.time.Duration;
import java.time.LocalTime;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A multi-component daemon: a TCP echo server (blocking sockets, {@code Stoppable}), a periodic job
 * that sleeps on the governor's clock, and a flaky worker that fails and comes back under backoff.
 * Ctrl-C or SIGTERM stops them in reverse order and exits 0.
 *
 * <pre>
 *   --port=N        echo port on loopback (default 7007; 0 picks a free one)
 *   --flaky-fails=N the worker fails this many times before it settles (default 3)
 *   --tick=MS       period of the job in milliseconds (default 5000)
 * </pre>
 */
public final class SampleDaemon {
    private SampleDaemon() {}

    public static void main(String[] args) {
        int port = intArg(args, "--port=", 7007);
        int fails = intArg(args, "--flaky-fails=", 3);
        long tickMillis = intArg(args, "--tick=", 5000);

        Governor gov = Governor.create();
        gov.restart(Duration.ofSeconds(1));
        gov.add("echo", new EchoServer(port)).readyOnStart(false);
        gov.add("ticker", ctx -> {
            while (!ctx.sleep(Duration.ofMillis(tickMillis))) {
                ctx.log().info("tick at {}", LocalTime.now().withNano(0));
            }
        });
        AtomicInteger runs = new AtomicInteger();
        gov.add("flaky", ctx -> {
            int run = runs.incrementAndGet();
            if (run <= fails) {
                ctx.sleep(Duration.ofMillis(200));
                throw new IllegalStateException("flaky worker failed on purpose (" + run + " of " + fails + ")");
            }
            ctx.log().info("flaky worker settled after {} failures", fails);
            ctx.awaitStop();
        }).restartPolicy(RestartPolicy.onFailure(Duration.ofMillis(250))
                .withBackoff(Duration.ofSeconds(5), 2.0, 0.1)
                .withLimit(10, Duration.ofMinutes(1)));

        ShutdownReport report = gov.catchSignals().start().waitForShutdown();
        System.exit(report.exitCode());
    }

    static int intArg(String[] args, String prefix, int fallback) {
        for (String a : args) {
            if (a.startsWith(prefix)) {
                String v = a.substring(prefix.length());
                try {
                    return Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(prefix + v + ": not a number", e);
                }
            }
        }
        return fallback;
    }
}
