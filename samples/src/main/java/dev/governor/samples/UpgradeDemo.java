package dev.governor.samples;

import dev.governor.Governor;
import dev.governor.ShutdownReport;
import dev.governor.runtime.daemon.ControlSocket;
import dev.governor.runtime.daemon.Daemon;
import dev.governor.runtime.daemon.PidFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The zero-downtime upgrade, small: the sample's hello service (Jetty, {@code GET /hello}, each
 * answer naming the pid that served it) on the governor-owned listener {@code hello}, with a control
 * socket. {@code governorctl upgrade} (or {@code kill -USR1}) starts the same command line again;
 * the new process takes over the sockets, and this one drains and exits 0.
 *
 * <pre>
 *   --config=PATH          the hello service's configuration (greeting=...)
 *   --port=N               HTTP port on loopback (default 8080; 0 picks a free one, kept across upgrades)
 *   --control-socket=PATH  the control socket (governorctl --socket PATH upgrade)
 *   --daemonize, --pidfile=PATH, --log-file=PATH   as the sample daemon
 *   --mode-file=PATH       read at start, for tests and demos: "fail" exits 3 before serving,
 *                          "hang" never becomes ready, "slow" becomes ready after 3 s
 * </pre>
 */
public final class UpgradeDemo {
    private UpgradeDemo() {}

    public static void main(String[] args) throws Exception {
        Path pidFile = SampleDaemon.pathArg(args, "--pidfile=");
        Path logFile = SampleDaemon.pathArg(args, "--log-file=");
        Path control = SampleDaemon.pathArg(args, "--control-socket=");
        Path modeFile = SampleDaemon.pathArg(args, "--mode-file=");
        boolean daemonize = java.util.Arrays.asList(args).contains("--daemonize");
        Daemon daemon = null;
        if (daemonize || pidFile != null) {
            Daemon.Builder options = Daemon.builder().pidFile(pidFile).logFile(logFile);
            try {
                daemon = daemonize ? options.daemonize() : options.foreground();
            } catch (PidFile.AlreadyRunningException e) {
                System.err.println(e.getMessage());
                System.exit(1);
            }
        }
        String mode = modeFile != null && Files.exists(modeFile)
                ? Files.readString(modeFile).strip()
                : "ok";
        if (mode.equals("fail")) {
            System.err.println("upgrade demo: configured to fail at start (" + modeFile + " says fail)");
            System.exit(3);
        }
        int port = SampleDaemon.intArg(args, "--port=", 8080);
        Path config = SampleDaemon.pathArg(args, "--config=");
        if (config == null) {
            System.err.println("upgrade demo: --config=PATH is required (a file with greeting=...)");
            System.exit(2);
        }
        Governor gov = Governor.create();
        HelloSample.install(gov, Daemon.resolve(config), new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        switch (mode) {
            case "hang" -> gov.add("stuck", ctx -> ctx.awaitStop()).readyOnStart(false); // never ready
            case "slow" ->
                gov.add("slow", ctx -> {
                            ctx.sleep(Duration.ofSeconds(3));
                            ctx.markReady();
                            ctx.awaitStop();
                        })
                        .readyOnStart(false);
            default -> {}
        }
        if (control != null) {
            ControlSocket.at(Daemon.resolve(control)).addTo(gov);
        }
        if (daemon != null) {
            daemon.readyWhen(gov);
        }
        gov.onEvent(e -> {
            if (e instanceof dev.governor.GovernorEvent.Ready r && r.service().isEmpty()) {
                System.out.println(
                        "upgrade demo: pid " + ProcessHandle.current().pid() + " ready");
            }
        });
        ShutdownReport report = gov.catchSignals().start().waitForShutdown();
        System.out.println("upgrade demo: pid " + ProcessHandle.current().pid() + " exits with " + report.exitCode());
        System.exit(report.exitCode());
    }
}
