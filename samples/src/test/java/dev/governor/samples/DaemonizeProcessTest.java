package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.runtime.daemon.Daemon;
import dev.governor.runtime.daemon.DaemonCommands;
import dev.governor.test.ChildJvm;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --daemonize} with real processes: the launcher's exit code tells the truth about the
 * daemon, which is detached the classic way; the pid file keeps a second instance out. Every
 * daemon started here is killed by pid afterwards.
 */
class DaemonizeProcessTest {
    static final Duration EXIT = Duration.ofSeconds(120);
    private static final Pattern PID = Pattern.compile("daemon (?:ready as )?pid (\\d+)");

    @TempDir
    Path dir;

    private final List<Long> daemons = new ArrayList<>();
    private final List<ChildJvm> jvms = new ArrayList<>();

    @AfterEach
    void killEveryDaemonByPid() {
        jvms.forEach(ChildJvm::close);
        killByPid(daemons);
    }

    static void killByPid(List<Long> pids) {
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        for (long pid : pids) {
            await().atMost(EXIT).until(() -> !DaemonCommands.running(pid));
        }
    }

    private ChildJvm launch(Class<?> main, String... args) throws Exception {
        ChildJvm jvm = ChildJvm.builder(main).arg(args).start();
        jvms.add(jvm);
        return jvm;
    }

    /** The daemon's pid as the launcher printed it; remembered for the kill at the end. */
    private long daemonPid(ChildJvm launcher) {
        Matcher m = PID.matcher(launcher.output());
        assertThat(m.find())
                .as("launcher names the daemon's pid in: %s", launcher.output())
                .isTrue();
        long pid = Long.parseLong(m.group(1));
        daemons.add(pid);
        return pid;
    }

    @Test
    void shouldExitZeroOnlyOnceTheDaemonsListenerAcceptsAndDetachTheClassicWay() throws Exception {
        Path work = Files.createDirectory(dir.resolve("work"));
        Path pidFile = dir.resolve("d.pid");
        Path log = dir.resolve("d.log");
        Path portFile = dir.resolve("port");
        long t0 = System.nanoTime();
        ChildJvm launcher = launch(
                DaemonTestMain.class,
                "--daemonize",
                "--pidfile=" + pidFile,
                "--log-file=" + log,
                "--workdir=" + work,
                "--umask=077",
                "--startup-delay=1500",
                "--port-file=" + portFile);
        int code = launcher.awaitExit(EXIT);
        long launchMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        long pid = daemonPid(launcher);

        assertThat(code).as("launcher output: %s", launcher.output()).isZero();
        // at the very moment the launcher exited, the daemon's listener must already accept
        assertThat(portFile).as("listener bound before the launcher exited").exists();
        int port = Integer.parseInt(Files.readString(portFile));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
                PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8);
                BufferedReader in =
                        new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8))) {
            out.println("hello daemon");
            assertThat(in.readLine()).isEqualTo("hello daemon");
        }
        assertThat(launchMillis)
                .as("the launcher waited through the 1.5 s startup")
                .isGreaterThanOrEqualTo(1500);
        assertThat(pid).isNotEqualTo(launcher.pid());
        assertThat(Files.readString(pidFile)).isEqualTo(pid + "\n");
        assertThat(Files.getPosixFilePermissions(pidFile)).isEqualTo(PosixFilePermissions.fromString("rw-------"));

        assertThat(ps("sid", pid)).as("session leader: its sid is its pid").isEqualTo(Long.toString(pid));
        assertThat(ps("tty", pid)).as("no controlling terminal").isEqualTo("?");
        assertThat(Path.of("/proc/" + pid + "/cwd").toRealPath()).isEqualTo(work.toRealPath());
        assertThat(Files.readAllLines(Path.of("/proc/" + pid + "/status"))).contains("Umask:\t0077");
        assertThat(Path.of("/proc/" + pid + "/fd/0").toRealPath()).isEqualTo(Path.of("/dev/null"));
        assertThat(Path.of("/proc/" + pid + "/fd/1").toRealPath()).isEqualTo(log.toRealPath());
        assertThat(Path.of("/proc/" + pid + "/fd/2").toRealPath()).isEqualTo(log.toRealPath());
        // ProcessHandle.Info gives up on a command line longer than a page: read it whole
        List<String> daemonArgs =
                List.of(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        assertThat(daemonArgs)
                .as("same java, JVM flags, class path, main class and arguments")
                .containsExactlyElementsOf(ChildJvm.builder(DaemonTestMain.class)
                        .arg(
                                "--daemonize",
                                "--pidfile=" + pidFile,
                                "--log-file=" + log,
                                "--workdir=" + work,
                                "--umask=077",
                                "--startup-delay=1500",
                                "--port-file=" + portFile)
                        .command()
                        .stream()
                        .map(w -> w.equals(ChildJvm.classPath()) ? absoluteClassPath(w) : w)
                        .toList());
        System.out.printf("launcher exit after %d ms (startup delay 1500 ms)%n", launchMillis);
    }

    @Test
    void shouldExitWithTheDaemonsCodeAndPrintItsErrorWhenItFailsBeforeReady() throws Exception {
        Path pidFile = dir.resolve("d.pid");
        ChildJvm launcher =
                launch(DaemonTestMain.class, "--daemonize", "--pidfile=" + pidFile, "--fail-before-ready=7");
        assertThat(launcher.awaitExit(EXIT)).as(launcher.output()).isEqualTo(7);
        long pid = daemonPid(launcher);
        assertThat(launcher.output())
                .contains("config broken: /etc/nonexistent.conf: no such file")
                .contains("daemon pid " + pid + " exited with code 7 before it was ready");
        assertThat(pidFile).as("removed at the daemon's exit").doesNotExist();
    }

    @Test
    void shouldReportAnUncaughtStartupExceptionWithItsStackTrace() throws Exception {
        Path log = dir.resolve("d.log");
        ChildJvm launcher = launch(DaemonTestMain.class, "--daemonize", "--log-file=" + log, "--throw-before-ready");
        assertThat(launcher.awaitExit(EXIT)).as(launcher.output()).isEqualTo(1);
        daemonPid(launcher);
        assertThat(launcher.output())
                .contains("java.lang.IllegalStateException: database at db.invalid:5432 refused the connection")
                .contains("at dev.governor.samples.DaemonTestMain.main")
                .contains("exited with code 1 before it was ready");
        assertThat(Files.readString(log)).as("and the log keeps it").contains("database at db.invalid:5432 refused");
    }

    @Test
    void shouldKillADaemonThatIsNotReadyInTimeAndSaySo() throws Exception {
        Path pidFile = dir.resolve("d.pid");
        ChildJvm launcher = launch(
                DaemonTestMain.class, "--daemonize", "--pidfile=" + pidFile, "--never-ready", "--startup-timeout=4000");
        assertThat(launcher.awaitExit(EXIT)).as(launcher.output()).isEqualTo(Daemon.EXIT_STARTUP_TIMEOUT);
        long pid = daemonPid(launcher);
        assertThat(launcher.output()).contains("daemon pid " + pid + " was not ready within PT4S; killed it");
        assertThat(DaemonCommands.running(pid)).as("killed by the launcher").isFalse();
        assertThat(pidFile).as("TERM let it remove its pid file").doesNotExist();
    }

    @Test
    void shouldRefuseASecondInstanceOnTheSamePidFile() throws Exception {
        Path pidFile = dir.resolve("d.pid");
        ChildJvm first = launch(DaemonTestMain.class, "--daemonize", "--pidfile=" + pidFile);
        assertThat(first.awaitExit(EXIT)).as(first.output()).isZero();
        long pid = daemonPid(first);

        ChildJvm second = launch(DaemonTestMain.class, "--daemonize", "--pidfile=" + pidFile);
        assertThat(second.awaitExit(EXIT)).isEqualTo(1);
        assertThat(second.output()).isEqualTo("already running as pid " + pid + " (" + pidFile + ")");

        // the same check made by the daemon process itself, on the lock, without the launcher's look first
        ChildJvm foreground = launch(DaemonTestMain.class, "--pidfile=" + pidFile);
        assertThat(foreground.awaitExit(EXIT)).isEqualTo(1);
        assertThat(foreground.output()).contains("already running as pid " + pid + " (" + pidFile + ")");

        assertThat(DaemonCommands.running(pid)).isTrue();
        assertThat(Files.readString(pidFile)).isEqualTo(pid + "\n");
    }

    @Test
    void shouldTakeOverAStalePidFile() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        assertThat(gone.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Path pidFile = dir.resolve("d.pid");
        Files.writeString(pidFile, gone.pid() + "\n");

        ChildJvm launcher = launch(DaemonTestMain.class, "--daemonize", "--pidfile=" + pidFile);
        assertThat(launcher.awaitExit(EXIT)).as(launcher.output()).isZero();
        long pid = daemonPid(launcher);
        assertThat(Files.readString(pidFile)).isEqualTo(pid + "\n").isNotEqualTo(gone.pid() + "\n");
    }

    @Test
    void shouldStatusReloadAndStopTheSampleThroughItsPidFile() throws Exception {
        Path pidFile = dir.resolve("sample.pid");
        Path log = dir.resolve("sample.log");
        ChildJvm launcher =
                launch(SampleDaemon.class, "--daemonize", "--pidfile=" + pidFile, "--log-file=" + log, "--port=0");
        assertThat(launcher.awaitExit(EXIT)).as(launcher.output()).isZero();
        long pid = daemonPid(launcher);

        ChildJvm status = launch(SampleDaemon.class, "status", "--pidfile=" + pidFile);
        assertThat(status.awaitExit(EXIT)).isZero();
        assertThat(status.output()).isEqualTo("running as pid " + pid + " (" + pidFile + ")");

        ChildJvm reload = launch(SampleDaemon.class, "reload", "--pidfile=" + pidFile);
        assertThat(reload.awaitExit(EXIT)).isZero();
        assertThat(reload.output()).isEqualTo("signalled pid " + pid + " (" + pidFile + ")");
        await().atMost(EXIT).until(() -> Files.readString(log).contains("reloaded: generation 1"));
        assertThat(DaemonCommands.running(pid))
                .as("SIGHUP reloads, the pid stays")
                .isTrue();

        ChildJvm stop = launch(SampleDaemon.class, "stop", "--pidfile=" + pidFile);
        assertThat(stop.awaitExit(EXIT)).isZero();
        assertThat(stop.output()).isEqualTo("stopped pid " + pid + " (" + pidFile + ")");
        assertThat(DaemonCommands.running(pid))
                .as("exited (a zombie until init reaps it, at most)")
                .isFalse();
        assertThat(pidFile).as("removed at clean exit").doesNotExist();
        assertThat(Files.readString(log)).contains("shutting down: SIGTERM").contains("exit code 0");

        ChildJvm after = launch(SampleDaemon.class, "status", "--pidfile=" + pidFile);
        assertThat(after.awaitExit(EXIT)).isEqualTo(3);
        assertThat(after.output()).isEqualTo("not running (" + pidFile + " absent or stale)");
    }

    /** Surefire's class path ends in an empty entry, the working directory: the daemon gets it spelled out. */
    private static String absoluteClassPath(String cp) {
        return String.join(
                ":",
                java.util.Arrays.stream(cp.split(":", -1))
                        .map(e -> e.isEmpty() ? Path.of("").toAbsolutePath().toString() : e)
                        .toList());
    }

    static String ps(String field, long pid) throws Exception {
        Process ps = new ProcessBuilder("ps", "-o", field + "=", "-p", Long.toString(pid))
                .redirectErrorStream(true)
                .start();
        String out = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(ps.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
