package dev.governor.samples;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.RestartPolicy;
import dev.governor.ShutdownReport;
import dev.governor.runtime.metrics.GovernorEndpoint;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A multi-component daemon: a TCP echo server (blocking sockets, {@code Stoppable}), a periodic job
 * that sleeps on the governor's clock, and a flaky worker that fails and comes back under backoff.
 * Ctrl-C or SIGTERM stops them in reverse order and exits 0. An HTTP endpoint (added first, so it
 * stops last) serves {@code /metrics} for Prometheus, {@code /healthz} and {@code /readyz} for
 * Kubernetes, and the live tree at {@code /status}.
 *
 * <pre>
 *   --port=N         echo port on loopback (default 7007; 0 picks a free one)
 *   --flaky-fails=N  the worker fails this many times before it settles (default 3)
 *   --tick=MS        period of the job in milliseconds (default 5000)
 *   --metrics-port=N port of /metrics, /healthz, /readyz, /status on loopback (default 9464, or
 *                    $GOVERNOR_METRICS_PORT; 0 picks a free one)
 *   --metrics-host=H address of that endpoint (default 127.0.0.1; 0.0.0.0 in a container)
 *   --drain=MS       at shutdown, /readyz answers 503 this long before services stop (default 0)
 * </pre>
 */
public final class SampleDaemon {
    private static final DateTimeFormatter HH_MM_SS = DateTimeFormatter.ofPattern("HH:mm:ss");

    private SampleDaemon() {}

    public static void main(String[] args) {
        int port = intArg(args, "--port=", 7007);
        int fails = intArg(args, "--flaky-fails=", 3);
        long tickMillis = intArg(args, "--tick=", 5000);
        String envPort = System.getenv("GOVERNOR_METRICS_PORT");
        int metricsPort = intArg(args, "--metrics-port=", envPort == null || envPort.isBlank() ? 9464 : parse("GOVERNOR_METRICS_PORT=", envPort));
        String metricsHost = stringArg(args, "--metrics-host=", "127.0.0.1");
        int drainMillis = intArg(args, "--drain=", 0);

        Governor gov = Governor.create(GovernorOptions.builder().drainDelay(Duration.ofMillis(drainMillis)).build());
        gov.restart(Duration.ofSeconds(1));
        GovernorEndpoint endpoint;
        try {
            endpoint = GovernorEndpoint.builder(gov).host(metricsHost).port(metricsPort).title("Governor sample daemon").build();
        } catch (IllegalStateException e) {
            System.err.println("sample daemon: " + e.getMessage());
            System.exit(2);
            return;
        }
        endpoint.addTo(gov, "http");
        System.out.println("status page: " + endpoint.uri().resolve("status") + "  metrics: " + endpoint.uri().resolve("metrics"));
        gov.add("echo", new EchoServer(port)).readyOnStart(false);
        gov.add("ticker", ctx -> {
            while (!ctx.sleep(Duration.ofMillis(tickMillis))) {
                ctx.log().info("tick at {}", LocalTime.now().format(HH_MM_SS));
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
                return parse(prefix, a.substring(prefix.length()));
            }
        }
        return fallback;
    }

    private static int parse(String prefix, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(prefix + v + ": not a number", e);
        }
    }

    static String stringArg(String[] args, String prefix, String fallback) {
        for (String a : args) {
            if (a.startsWith(prefix)) {
                return a.substring(prefix.length());
            }
        }
        return fallback;
    }
}
