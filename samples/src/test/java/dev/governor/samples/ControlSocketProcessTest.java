package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import dev.governor.ctl.GovernorCtl;
import dev.governor.runtime.daemon.DaemonCommands;
import dev.governor.test.ChildJvm;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sample daemon's control socket, from other processes: {@code governorctl} runs every
 * command, another uid is refused by the peer check, bad input leaves the daemon alive.
 */
class ControlSocketProcessTest {
    @TempDir
    Path dir;

    private Path socket;
    private Path pidFile;
    private Path log;
    private long pid;
    private final List<Long> daemons = new ArrayList<>();
    private final List<Process> probes = new ArrayList<>();

    @BeforeEach
    void startSampleDaemon() throws Exception {
        // the directory must be reachable by another user, so that the socket's own mode and the
        // peer check are what stands in the way
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        socket = dir.resolve("ctl.sock");
        pidFile = dir.resolve("sample.pid");
        log = dir.resolve("sample.log");
        try (ChildJvm launcher = ChildJvm.builder(SampleDaemon.class)
                .arg(
                        "--daemonize",
                        "--pidfile=" + pidFile,
                        "--log-file=" + log,
                        "--control-socket=" + socket,
                        "--port=0",
                        "--flaky-fails=0")
                .start()) {
            assertThat(launcher.awaitExit(DaemonizeProcessTest.EXIT))
                    .as(launcher.output())
                    .isZero();
        }
        pid = Long.parseLong(Files.readString(pidFile).strip());
        daemons.add(pid);
    }

    @AfterEach
    void killByPid() {
        for (Process p : probes) {
            p.destroyForcibly();
        }
        DaemonizeProcessTest.killByPid(daemons);
    }

    private record Ctl(int code, String out, String err) {}

    private Ctl governorctl(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = new String[args.length + 2];
        all[0] = "--socket";
        all[1] = socket.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        int code = GovernorCtl.run(new PrintWriter(out, true), new PrintWriter(err, true), all);
        return new Ctl(code, out.toString(), err.toString());
    }

    @Test
    void shouldPrintTheStatusTableOfTheLiveDaemon() {
        await().atMost(DaemonizeProcessTest.EXIT)
                .until(() -> governorctl("status").out().contains("  ready  healthy"));
        Ctl status = governorctl("status");
        assertThat(status.code()).isZero();
        assertThat(status.err()).isEmpty();
        List<String> lines = status.out().lines().toList();
        assertThat(lines.getFirst()).isEqualTo("pid " + pid + "  ready  healthy  (5 running)");
        assertThat(lines.get(1)).matches("NAME +STATE +READY +RESTARTS +UPTIME +LAST FAILURE");
        assertThat(lines.subList(2, lines.size()))
                .hasSize(5)
                .anySatisfy(l -> assertThat(l).matches("http +RUNNING +yes +0 +[0-9dhms]+"))
                .anySatisfy(l -> assertThat(l).matches("echo +RUNNING +yes +0 +[0-9dhms]+"))
                .anySatisfy(l -> assertThat(l).matches("ticker +RUNNING +yes +0 +[0-9dhms]+"))
                .anySatisfy(l -> assertThat(l).matches("flaky +RUNNING +yes +0 +[0-9dhms]+"))
                .anySatisfy(l -> assertThat(l).matches("control +RUNNING +yes +0 +[0-9dhms]+"));
        assertThat(status.out()).as("no colour off a terminal").doesNotContain("\u001b[");
        assertThat(governorctl("status", "--color=always").out()).contains("\u001b[32mRUNNING");
        assertThat(governorctl("--json", "status").out()).startsWith("{\"ok\":true,\"pid\":" + pid + ",");
    }

    @Test
    void shouldRunEveryCommandThroughGovernorctl() throws Exception {
        assertThat(governorctl("stop", "ticker")).isEqualTo(new Ctl(0, "stopped ticker (STOPPED)\n", ""));
        assertThat(governorctl("status").out()).containsPattern("ticker +STOPPED +no");
        assertThat(governorctl("start", "ticker")).isEqualTo(new Ctl(0, "started ticker (RUNNING)\n", ""));
        assertThat(governorctl("restart", "echo")).isEqualTo(new Ctl(0, "restarted echo (RUNNING)\n", ""));
        // the echo server marks itself ready once it listens again, a moment after the restart returns
        await().atMost(DaemonizeProcessTest.EXIT)
                .until(() -> governorctl("status").out().matches("(?s).*echo +RUNNING +yes +1 .*"));
        assertThat(governorctl("reload")).isEqualTo(new Ctl(0, "reloaded\n", ""));
        await().atMost(DaemonizeProcessTest.EXIT)
                .until(() -> Files.readString(log).contains("reloaded: generation 1"));
        assertThat(governorctl("restart", "nosuch"))
                .isEqualTo(new Ctl(1, "", "governorctl: no service named \"nosuch\"; status lists the names\n"));
        String daemonCommands = governorctl("commands").out();
        assertThat(daemonCommands).contains("shutdown [TIMEOUT]");
        // the CLI and the socket agree: every command the daemon lists is one of governorctl's, help included
        java.util.Set<String> cli = new picocli.CommandLine(new dev.governor.ctl.GovernorCtl())
                .getSubcommands()
                .keySet();
        List<String> verbs = daemonCommands.lines().map(l -> l.split(" ", 2)[0]).toList();
        assertThat(verbs).contains("help", "status", "reload");
        assertThat(cli).containsAll(verbs);
        Ctl help = governorctl("help");
        assertThat(help.code()).isZero();
        verbs.forEach(v -> assertThat(help.out()).containsPattern("(?m)^  " + v + "\\b"));
        assertThat(governorctl("shutdown", "20s")).isEqualTo(new Ctl(0, "shutdown requested (within PT20S)\n", ""));

        await().atMost(DaemonizeProcessTest.EXIT).until(() -> !DaemonCommands.running(pid));
        assertThat(Files.readString(log))
                .contains("shutting down: control socket: shutdown PT20S")
                .contains("exit code 0");
        assertThat(socket).as("socket removed at stop").doesNotExist();
        assertThat(pidFile).as("pid file removed at exit").doesNotExist();
        Ctl gone = governorctl("status");
        assertThat(gone.code()).isEqualTo(3);
        assertThat(gone.err()).startsWith("governorctl: cannot reach the daemon at " + socket);
    }

    @Test
    void shouldRejectGarbageAndA1MiBLineAndLiveOn() throws Exception {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            send(ch, new byte[] {(byte) 0xc3, 0x28, 0x00, 0x1b, '[', '2', 'J', '\n'});
            assertThat(readLine(ch)).startsWith("{\"ok\":false,\"error\":\"unknown command ");
            byte[] huge = new byte[(1 << 20) + 1];
            Arrays.fill(huge, (byte) 'A');
            huge[huge.length - 1] = '\n';
            send(ch, huge);
            assertThat(readLine(ch))
                    .isEqualTo(
                            "{\"ok\":false,\"error\":\"line of 1048576 bytes is longer than the limit of 4096 bytes\"}");
            send(ch, "status\n".getBytes(StandardCharsets.UTF_8));
            assertThat(readLine(ch))
                    .startsWith("{\"ok\":true,\"pid\":" + pid + ",")
                    .contains("{\"name\":\"control\",\"depth\":0,\"state\":\"RUNNING\",\"ready\":true,\"restarts\":0,");
        }
        assertThat(DaemonCommands.running(pid)).isTrue();
        assertThat(governorctl("status").code()).isZero();
    }

    @Test
    void shouldRefuseAnotherUidByItsPeerCredentials() throws Exception {
        assumeThat(ProcessHandle.current().info().user())
                .as("setpriv needs root")
                .contains("root");
        String nobodyUid = run("id", "-u", "nobody").strip();
        Path probe = writeProbe();

        // 1. the socket's mode 0600 keeps nobody out at connect()
        assertThat(Files.getPosixFilePermissions(socket)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(runAsNobody(probe))
                .contains("uid " + nobodyUid)
                .contains("connect failed")
                .contains("Permission denied");

        // 2. with the mode loosened, nobody reaches the daemon, and the peer check (SO_PEERCRED) refuses it
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        String refused = runAsNobody(probe);
        assertThat(refused)
                .contains("uid " + nobodyUid)
                .contains("answer: {\"ok\":false,\"error\":\"permission denied: uid " + nobodyUid
                        + " (nobody) may not use this control socket (allowed uids [0])\"}")
                .contains("closed by the daemon");
        await().atMost(DaemonizeProcessTest.EXIT)
                .until(() ->
                        Files.readString(log).contains("refused a connection from uid " + nobodyUid + " (nobody)"));

        // 3. the very same probe as root is served: only the uid made the difference
        assertThat(run(ChildJvm.javaExecutable(), "-XX:-UsePerfData", probe.toString(), socket.toString()))
                .contains("uid 0")
                .contains("answer: {\"ok\":true,\"pid\":" + pid);
        assertThat(governorctl("status").code()).isZero();
    }

    private Path writeProbe() throws Exception {
        Path probeDir = Files.createDirectory(dir.resolve("probe"));
        Path probe = probeDir.resolve("PeerProbe.java");
        Files.writeString(probe, """
                import java.io.IOException;
                import java.net.UnixDomainSocketAddress;
                import java.nio.ByteBuffer;
                import java.nio.channels.SocketChannel;
                import java.nio.charset.StandardCharsets;
                import java.nio.file.Files;
                import java.nio.file.Path;

                /** Connects to a control socket, asks for status and prints what happens. */
                public class PeerProbe {
                    public static void main(String[] args) throws Exception {
                        System.out.println("uid " + Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
                        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(args[0]))) {
                            ch.write(ByteBuffer.wrap("status\\n".getBytes(StandardCharsets.UTF_8)));
                            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
                            while (ch.read(buf) >= 0 && buf.hasRemaining()) {
                                String got = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
                                if (got.endsWith("\\n") && got.contains("\\"ok\\":true")) {
                                    break;
                                }
                            }
                            String got = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
                            System.out.println("answer: " + got.strip());
                            if (!got.contains("\\"ok\\":true")) {
                                System.out.println("closed by the daemon");
                            }
                        } catch (IOException e) {
                            System.out.println("connect failed: " + e.getMessage());
                        }
                    }
                }
                """);
        Files.setPosixFilePermissions(probeDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(probe, PosixFilePermissions.fromString("rw-r--r--"));
        return probe;
    }

    private String runAsNobody(Path probe) throws Exception {
        return run(
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                ChildJvm.javaExecutable(),
                "-XX:-UsePerfData",
                probe.toString(),
                socket.toString());
    }

    private String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .directory(Path.of("/").toFile())
                .start();
        probes.add(p);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS))
                .as("%s finished", List.of(command))
                .isTrue();
        return out;
    }

    private static void send(SocketChannel ch, byte[] bytes) throws Exception {
        ByteBuffer out = ByteBuffer.wrap(bytes);
        while (out.hasRemaining()) {
            ch.write(out);
        }
    }

    private static String readLine(SocketChannel ch) throws Exception {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (ch.read(one) > 0) {
            if (one.get(0) == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            line.write(one.get(0));
            one.clear();
        }
        throw new AssertionError("connection closed after: " + line.toString(StandardCharsets.UTF_8));
    }
}
