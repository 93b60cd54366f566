package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.ctl.GovernorCtl;
import dev.governor.runtime.daemon.DaemonCommands;
import dev.governor.runtime.daemon.PidFile;
import dev.governor.runtime.systemd.NotifyReceiver;
import dev.governor.test.ChildJvm;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample daemon upgraded end to end while its hello service answers: daemonized (the pid file
 * moves to the new process) and under systemd's {@code systemd-socket-activate} (the listener came
 * from systemd; the new process announces {@code MAINPID} with {@code READY=1}, the old one never
 * says {@code STOPPING=1}).
 */
class SampleUpgradeTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final Pattern UPGRADED =
            Pattern.compile("upgraded: pid (\\d+) serves now; pid (\\d+) drains and exits");

    @TempDir
    Path dir;

    private Path socket;
    private Path config;
    private final List<Long> pids = new ArrayList<>();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @BeforeEach
    void files() throws Exception {
        socket = dir.resolve("ctl.sock");
        config = dir.resolve("hello.conf");
        Files.writeString(config, "greeting=still here\n");
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        DaemonizeProcessTest.killByPid(pids);
    }

    private String governorctl(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--socket", socket.toString()));
        all.addAll(List.of(args));
        int code = GovernorCtl.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        assertThat(code).as(err.toString()).isZero();
        return out.toString();
    }

    private long upgrade(long old) {
        Matcher m = UPGRADED.matcher(governorctl("upgrade"));
        assertThat(m.find()).isTrue();
        assertThat(Long.parseLong(m.group(2))).isEqualTo(old);
        long pid = Long.parseLong(m.group(1));
        pids.add(pid);
        return pid;
    }

    private static String hello(long pid) {
        return "hello from generation 1: still here (pid " + pid + ")";
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void daemonizedTheNewProcessTakesThePidFileAndTheLog() throws Exception {
        Path pidFile = dir.resolve("sample.pid");
        Path log = dir.resolve("sample.log");
        int port = freePort();
        try (ChildJvm launcher = ChildJvm.builder(SampleDaemon.class)
                .arg(
                        "--daemonize",
                        "--pidfile=" + pidFile,
                        "--log-file=" + log,
                        "--control-socket=" + socket,
                        "--port=0",
                        "--flaky-fails=0",
                        "--config=" + config,
                        "--hello-port=" + port)
                .start()) {
            assertThat(launcher.awaitExit(WAIT)).as(launcher.output()).isZero();
        }
        long old = Long.parseLong(Files.readString(pidFile).strip());
        pids.add(old);
        InetSocketAddress http = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        HttpLoad load = new HttpLoad(http, "/hello", 16);
        HttpLoad.Result result;
        long next;
        try {
            await().atMost(WAIT).until(() -> load.bodiesSoFar().getOrDefault(hello(old), 0L) > 100);
            next = upgrade(old);
            await().atMost(WAIT).until(() -> load.bodiesSoFar().getOrDefault(hello(next), 0L) > 100);
            await().atMost(WAIT).until(() -> !DaemonCommands.running(old));
        } finally {
            result = load.stop();
        }
        assertThat(result.errorSamples()).isEmpty();
        assertThat(result.connectionErrors()).isZero();
        assertThat(result.non200()).isZero();
        // the pid file names the new process, which holds its lock; its output goes on in the same log
        assertThat(Files.readString(pidFile).strip()).isEqualTo(Long.toString(next));
        assertThat(PidFile.runningPid(pidFile)).hasValue(next);
        await().atMost(WAIT).until(() -> Files.readString(log).contains("upgrade: took over from pid " + old));
        // and the sample's own stop command finds it there
        assertThat(DaemonCommands.stop(pidFile, WAIT).outcome()).isEqualTo(DaemonCommands.Outcome.STOPPED);
        assertThat(Files.exists(pidFile)).isFalse();
    }

    @Test
    void underSocketActivationTheNewProcessTellsSystemdItIsTheMainProcess() throws Exception {
        NotifyReceiver systemd = NotifyReceiver.bind(
                "@governor-upgrade-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        toClose.add(systemd);
        int port = freePort();
        ChildJvm child = ChildJvm.builder(SampleDaemon.class)
                .commandPrefix(
                        "/usr/bin/systemd-socket-activate",
                        "-l",
                        "127.0.0.1:" + port,
                        "--fdname=hello",
                        "-E",
                        "NOTIFY_SOCKET=" + systemd.address())
                .arg(
                        "--port=0",
                        "--metrics-port=0",
                        "--flaky-fails=0",
                        "--control-socket=" + socket,
                        "--config=" + config,
                        "--hello-port=" + port)
                .start();
        toClose.add(child);
        child.awaitOutput(l -> l.contains("Listening on 127.0.0.1:" + port), WAIT);
        // the first connection starts the program, as a .socket unit does
        try (Socket first = new Socket(InetAddress.getLoopbackAddress(), port)) {
            assertThat(first.isConnected()).isTrue();
            systemd.await(m -> m.has("READY", "1"), WAIT);
        }
        long old = child.pid();
        pids.add(old);
        child.awaitOutput(l -> l.contains("listener \"hello\"") && l.contains("systemd"), WAIT);
        InetSocketAddress http = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        HttpLoad load = new HttpLoad(http, "/hello", 16);
        HttpLoad.Result result;
        long next;
        try {
            await().atMost(WAIT).until(() -> load.bodiesSoFar().getOrDefault(hello(old), 0L) > 100);
            int before = systemd.messages().size();
            next = upgrade(old);
            NotifyReceiver.Message mainPid =
                    systemd.awaitAfter(before - 1, m -> m.has("MAINPID", Long.toString(next)), WAIT);
            assertThat(mainPid.fields()).containsEntry("READY", "1");
            await().atMost(WAIT).until(() -> load.bodiesSoFar().getOrDefault(hello(next), 0L) > 100);
            assertThat(child.awaitExit(WAIT))
                    .as("the old process drains and exits 0")
                    .isZero();
        } finally {
            result = load.stop();
        }
        assertThat(result.errorSamples()).isEmpty();
        assertThat(result.connectionErrors()).isZero();
        assertThat(result.non200()).isZero();
        assertThat(systemd.messages())
                .as("no STOPPING=1 while the service goes on in the new process")
                .noneMatch(m -> m.has("STOPPING", "1"));
        assertThat(systemd.messages())
                .anyMatch(m -> m.get("STATUS").orElse("").startsWith("draining: upgrade: handed over to pid " + next));
        System.out.println("notify messages around the upgrade under systemd-socket-activate:");
        systemd.messages().forEach(m -> System.out.println("  " + m));
        // the new process stops as systemd would stop it
        ProcessHandle.of(next).ifPresent(ProcessHandle::destroy);
        systemd.await(m -> m.has("STOPPING", "1"), WAIT);
        await().atMost(WAIT).until(() -> !DaemonCommands.running(next));
    }
}
