package dev.governor.samples;

import dev.governor.Governor;
import dev.governor.runtime.daemon.Daemon;
import dev.governor.runtime.daemon.PidFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;

/**
 * A daemon for the process tests, with knobs for each way startup can go: a listener that binds
 * only after {@code --startup-delay=MS} and writes its port to {@code --port-file=PATH}; a failure
 * before ready ({@code --fail-before-ready=CODE}, {@code --throw-before-ready}); no readiness at all
 * ({@code --never-ready}). Daemon options as in {@link SampleDaemon}, plus {@code --startup-timeout=MS}.
 */
public final class DaemonTestMain {
    private DaemonTestMain() {}

    public static void main(String[] args) throws Exception {
        var argList = Arrays.asList(args);
        Daemon.Builder options = Daemon.builder()
                .pidFile(SampleDaemon.pathArg(args, "--pidfile="))
                .logFile(SampleDaemon.pathArg(args, "--log-file="))
                .umask(SampleDaemon.octalArg(args, "--umask=", 0027))
                .startupTimeout(Duration.ofMillis(SampleDaemon.intArg(args, "--startup-timeout=", 60_000)));
        Path workdir = SampleDaemon.pathArg(args, "--workdir=");
        if (workdir != null) {
            options.workingDirectory(workdir);
        }
        Daemon daemon;
        try {
            daemon = argList.contains("--daemonize") ? options.daemonize() : options.foreground();
        } catch (PidFile.AlreadyRunningException e) {
            System.err.println(e.getMessage());
            System.exit(1);
            return;
        }
        int failCode = SampleDaemon.intArg(args, "--fail-before-ready=", 0);
        if (failCode != 0) {
            System.err.println("config broken: /etc/nonexistent.conf: no such file");
            System.exit(failCode);
        }
        if (argList.contains("--throw-before-ready")) {
            throw new IllegalStateException("database at db.invalid:5432 refused the connection");
        }
        long delay = SampleDaemon.intArg(args, "--startup-delay=", 0);
        Path portFile = SampleDaemon.pathArg(args, "--port-file=");
        boolean neverReady = argList.contains("--never-ready");

        Governor gov = Governor.create();
        gov.add("listener", ctx -> {
                    if (ctx.sleep(Duration.ofMillis(delay))) {
                        return;
                    }
                    ServerSocket server = new ServerSocket();
                    try {
                        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                        if (portFile != null) {
                            Path resolved = Daemon.resolve(portFile);
                            Path tmp = resolved.resolveSibling(resolved.getFileName() + ".tmp");
                            Files.writeString(tmp, Integer.toString(server.getLocalPort()));
                            Files.move(tmp, resolved, StandardCopyOption.ATOMIC_MOVE);
                        }
                        if (!neverReady) {
                            ctx.markReady();
                        }
                        Thread.ofVirtual().start(() -> {
                            try {
                                ctx.awaitStop();
                                server.close();
                            } catch (Exception ignored) {
                                // stopping
                            }
                        });
                        while (!ctx.stopping()) {
                            Socket s;
                            try {
                                s = server.accept();
                            } catch (IOException closed) {
                                return;
                            }
                            Thread.ofVirtual().start(() -> echo(s));
                        }
                    } finally {
                        server.close();
                    }
                })
                .readyOnStart(false);
        daemon.readyWhen(gov);
        System.exit(gov.catchSignals().start().waitForShutdown().exitCode());
    }

    private static void echo(Socket s) {
        try (s;
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException ignored) {
            // client gone
        }
    }
}
