package dev.governor.samples;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.RestartPolicy;
import dev.governor.ShutdownReport;
import dev.governor.runtime.daemon.ControlSocket;
import dev.governor.runtime.daemon.Daemon;
import dev.governor.runtime.daemon.DaemonCommands;
import dev.governor.runtime.daemon.PidFile;
import dev.governor.runtime.metrics.GovernorEndpoint;
import java.nio.file.Path;
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
 *   --host=H         address of the echo server (default 127.0.0.1; 0.0.0.0 in a container)
 *   --flaky-fails=N  the worker fails this many times before it settles (default 3)
 *   --tick=MS        period of the job in milliseconds (default 5000)
 *   --metrics-port=N port of /metrics, /healthz, /readyz, /status on loopback (default 9464, or
 *                    $GOVERNOR_METRICS_PORT; 0 picks a free one)
 *   --metrics-host=H address of that endpoint (default 127.0.0.1; 0.0.0.0 in a container)
 *   --drain=MS       at shutdown, /readyz answers 503 this long before services stop (default 0)
 *   --config=PATH    serve GET /hello (Jetty, a reloadable node "hello") with the greeting= of
 *                    this file; SIGHUP reloads it without a failed request, a broken file is refused
 *   --hello-port=N   port of /hello (default 8080; 0 picks a free one), on --hello-host (127.0.0.1)
 * </pre>
 *
 * As a classic Unix daemon (all optional; without them it runs in the foreground as before):
 * <pre>
 *   --daemonize             re-execute in the background; this command exits 0 once the daemon is ready
 *   --pidfile=PATH          lock a pid file (also in the foreground)
 *   --log-file=PATH         the daemon's stdout and stderr (default /dev/null)
 *   --workdir=DIR           the daemon's working directory (default /)
 *   --umask=OOO             the daemon's umask, octal (default 027)
 *   --control-socket=PATH   serve the control socket (governorctl --socket PATH status)
 *   stop|reload|status --pidfile=PATH   signal the running daemon found through its pid file
 * </pre>
 * With any of {@code --daemonize}, {@code --pidfile}, {@code --control-socket}, SIGHUP (and the
 * control socket's {@code reload}) reloads: the ticker starts again, and the log counts the generation.
 */
public final class SampleDaemon {
    /** The echo server's default port. */
    static final int ECHO_PORT = 7007;
    /** The default port of /metrics, /healthz, /readyz and /status. */
    static final int METRICS_PORT = 9464;

    /** Made at the first tick, not in main: a formatter's pattern parsing is no part of the path to READY=1. */
    private static final class Ticks {
        static final DateTimeFormatter HH_MM_SS = DateTimeFormatter.ofPattern("HH:mm:ss");
    }

    private SampleDaemon() {}

    /**
     * Formats one time of day as the log's {@code dateTimeFormat} ({@code simplelogger.properties})
     * does, on a thread of its own, while {@code main} sets slf4j up and builds the tree: the format's
     * first use loads the JDK's locale data (CLDR), 60–180 ms on a cold JVM that the first log line
     * would otherwise pay on the main thread, on the path to {@code READY=1}. slf4j itself is left
     * to {@code main}: a logger asked for on another thread while slf4j initializes is a substitute
     * that records and replays what it is given.
     */
    private static void warmTimeFormat() {
        new java.text.SimpleDateFormat("HH:mm:ss.SSS").format(new java.util.Date());
    }

    public static void main(String[] args) {
        if (args.length > 0 && (args[0].equals("stop") || args[0].equals("reload") || args[0].equals("status"))) {
            System.exit(command(args[0], args));
        }
        Path pidFile = pathArg(args, "--pidfile=");
        Path logFile = pathArg(args, "--log-file=");
        Path controlSocket = pathArg(args, "--control-socket=");
        boolean daemonize = java.util.Arrays.asList(args).contains("--daemonize");
        Daemon daemon = null;
        if (daemonize || pidFile != null) {
            Daemon.Builder options =
                    Daemon.builder().pidFile(pidFile).logFile(logFile).umask(octalArg(args, "--umask=", 0027));
            Path workdir = pathArg(args, "--workdir=");
            if (workdir != null) {
                options.workingDirectory(workdir);
            }
            try {
                daemon = daemonize ? options.daemonize() : options.foreground();
            } catch (PidFile.AlreadyRunningException e) {
                System.err.println(e.getMessage());
                System.exit(1);
            }
        }
        Thread.ofPlatform().daemon().name("time-format").start(SampleDaemon::warmTimeFormat);
        int port = intArg(args, "--port=", ECHO_PORT);
        int fails = intArg(args, "--flaky-fails=", 3);
        long tickMillis = intArg(args, "--tick=", 5000);
        String envPort = System.getenv("GOVERNOR_METRICS_PORT");
        int metricsPort = intArg(
                args,
                "--metrics-port=",
                envPort == null || envPort.isBlank() ? METRICS_PORT : parse("GOVERNOR_METRICS_PORT=", envPort));
        String metricsHost = stringArg(args, "--metrics-host=", "127.0.0.1");
        int drainMillis = intArg(args, "--drain=", 0);

        Governor gov = Governor.create(GovernorOptions.builder()
                .drainDelay(Duration.ofMillis(drainMillis))
                .build());
        gov.restart(Duration.ofSeconds(1));
        GovernorEndpoint endpoint;
        try {
            endpoint = GovernorEndpoint.builder(gov)
                    .host(metricsHost)
                    .port(metricsPort)
                    .title("Governor sample daemon")
                    .build();
        } catch (IllegalStateException e) {
            System.err.println("sample daemon: " + e.getMessage());
            System.exit(2);
            return;
        }
        endpoint.addTo(gov, "http");
        System.out.println("status page: " + endpoint.uri().resolve("status") + "  metrics: "
                + endpoint.uri().resolve("metrics"));
        String host = stringArg(args, "--host=", "127.0.0.1");
        gov.add("echo", new EchoServer("echo", new java.net.InetSocketAddress(host, port)))
                .readyOnStart(false);
        gov.add("ticker", ctx -> {
            while (!ctx.sleep(Duration.ofMillis(tickMillis))) {
                ctx.log().info("tick at {}", LocalTime.now().format(Ticks.HH_MM_SS));
            }
        });
        AtomicInteger runs = new AtomicInteger();
        gov.add("flaky", ctx -> {
                    int run = runs.incrementAndGet();
                    if (run <= fails) {
                        ctx.sleep(Duration.ofMillis(200));
                        throw new IllegalStateException(
                                "flaky worker failed on purpose (" + run + " of " + fails + ")");
                    }
                    ctx.log().info("flaky worker settled after {} failures", fails);
                    ctx.awaitStop();
                })
                .restartPolicy(RestartPolicy.onFailure(Duration.ofMillis(250))
                        .withBackoff(Duration.ofSeconds(5), 2.0, 0.1)
                        .withLimit(10, Duration.ofMinutes(1)));

        Path helloConfig = pathArg(args, "--config=");
        if (helloConfig != null) {
            HelloSample.install(
                    gov,
                    helloConfig,
                    new java.net.InetSocketAddress(
                            stringArg(args, "--hello-host=", "127.0.0.1"), intArg(args, "--hello-port=", 8080)));
        }
        if (daemon != null || controlSocket != null) {
            AtomicInteger generation = new AtomicInteger();
            gov.onReload(g -> {
                int gen = generation.incrementAndGet();
                g.restartChild("ticker");
                g.globalContext().log().info("reloaded: generation {}", gen);
            });
        }
        if (controlSocket != null) {
            ControlSocket.at(Daemon.resolve(controlSocket)).addTo(gov);
        }
        if (daemon != null) {
            daemon.readyWhen(gov);
        }
        ShutdownReport report = gov.catchSignals().start().waitForShutdown();
        System.exit(report.exitCode());
    }

    /** {@code stop}, {@code reload} or {@code status} of the daemon whose pid file is {@code --pidfile}. */
    private static int command(String command, String[] args) {
        Path pidFile = pathArg(args, "--pidfile=");
        if (pidFile == null) {
            System.err.println(command + " needs --pidfile=PATH to find the daemon");
            return 2;
        }
        pidFile = Daemon.resolve(pidFile);
        DaemonCommands.Result result = switch (command) {
            case "stop" -> DaemonCommands.stop(pidFile, Duration.ofSeconds(60));
            case "reload" -> DaemonCommands.reload(pidFile);
            default -> DaemonCommands.status(pidFile);
        };
        System.out.println(result.message());
        return result.exitCode();
    }

    static Path pathArg(String[] args, String prefix) {
        String v = stringArg(args, prefix, null);
        return v == null ? null : Path.of(v);
    }

    static String stringArg(String[] args, String prefix, String fallback) {
        for (String a : args) {
            if (a.startsWith(prefix)) {
                return a.substring(prefix.length());
            }
        }
        return fallback;
    }

    static int octalArg(String[] args, String prefix, int fallback) {
        String v = stringArg(args, prefix, null);
        try {
            return v == null ? fallback : Integer.parseInt(v, 8);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(prefix + v + ": not an octal number such as 027", e);
        }
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
}
