package dev.governor.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.governor.runtime.handover.Entry;
import dev.governor.runtime.handover.HandoverException;
import dev.governor.runtime.handover.HandoverSender;
import dev.governor.runtime.handover.HandoverSocket;
import dev.governor.runtime.handover.Kind;
import dev.governor.runtime.systemd.FdChannels;
import dev.governor.test.ChildJvm;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The handover protocol between two real processes: 200 sockets in one handover, and a peer of another uid. */
class HandoverProcessTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private final List<ServerSocketChannel> listeners = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (ServerSocketChannel ch : listeners) {
            ch.close();
        }
    }

    private List<HandoverSender.Outgoing> listen(int n) throws Exception {
        List<HandoverSender.Outgoing> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ServerSocketChannel ch =
                    ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            listeners.add(ch);
            out.add(new HandoverSender.Outgoing(
                    new Entry("l" + i, Kind.TCP, Entry.address(ch.getLocalAddress()), "bound"), FdChannels.fd(ch)));
        }
        return out;
    }

    private static CompletableFuture<Long> serve(
            HandoverSocket socket, List<HandoverSender.Outgoing> out, long peerPid) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        return CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return socket.serve(out, pid -> peerPid < 0 || pid == peerPid, deadline, deadline, () -> false);
                    } catch (HandoverException e) {
                        throw new CompletionException(e);
                    }
                },
                r -> Thread.ofPlatform().start(r));
    }

    @Test
    void shouldHandTwoHundredSocketsToAnotherProcessAndLeakNoDescriptor() throws Exception {
        List<HandoverSender.Outgoing> warmUp = listen(1);
        List<HandoverSender.Outgoing> out = listen(200);
        try (HandoverSocket first = HandoverSocket.open(dir.resolve("first.sock"));
                HandoverSocket socket = HandoverSocket.open(dir.resolve("handover.sock"));
                ChildJvm peer = ChildJvm.builder(HandoverPeer.class)
                        .arg(first.path().toString(), socket.path().toString())
                        .start()) {
            // round 1 warms up what both JVMs open once (classes, jars, the FFM linker); round 2 is measured
            assertThat(serve(first, warmUp, peer.pid()).get(60, TimeUnit.SECONDS))
                    .isEqualTo(peer.pid());
            long fdsBefore =
                    UpgradeProcessTest.settledFds(ProcessHandle.current().pid());
            CompletableFuture<Long> served = serve(socket, out, peer.pid());
            String accepting = peer.awaitOutput(l -> l.startsWith("round 2: accepting on "), TIMEOUT);
            // a connection to the last socket, accepted by the other process over the descriptor it received
            try (SocketChannel client = SocketChannel.open(listeners.getLast().getLocalAddress())) {
                assertThat(peer.awaitOutput(l -> l.startsWith("round 2: accepted a connection from "), TIMEOUT))
                        .isEqualTo("round 2: accepted a connection from " + client.getLocalAddress());
            }
            assertThat(served.get(60, TimeUnit.SECONDS)).isEqualTo(peer.pid());
            assertThat(peer.awaitExit(TIMEOUT)).as(peer.output()).isZero();
            assertThat(peer.output())
                    .contains("round 2: received 200 sockets from pid "
                            + ProcessHandle.current().pid() + ", last tcp \"l199\" at "
                            + Entry.address(listeners.getLast().getLocalAddress()) + " (bound)");
            assertThat(accepting)
                    .isEqualTo("round 2: accepting on " + listeners.getLast().getLocalAddress());
            assertThat(peer.output()).contains("round 2: ready answered: true");
            Matcher before = Pattern.compile("fds after round 1: (\\d+)").matcher(peer.output());
            Matcher after = Pattern.compile("fds after round 2: (\\d+)").matcher(peer.output());
            assertThat(before.find() && after.find()).isTrue();
            assertThat(after.group(1))
                    .as("the peer closed all 200 and leaked none")
                    .isEqualTo(before.group(1));
            // the sender kept its own sockets, and holds not one descriptor more than before
            assertThat(listeners).allMatch(ServerSocketChannel::isOpen);
            assertThat(UpgradeProcessTest.settledFds(ProcessHandle.current().pid()))
                    .isLessThanOrEqualTo(fdsBefore);
        }
    }

    @Test
    void shouldRefuseAPeerOfAnotherUid() throws Exception {
        assumeThat(ProcessHandle.current().info().user())
                .as("setpriv needs root")
                .contains("root");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        String nobody = run("id", "-u", "nobody").strip();
        Path probe = writeProbe();
        List<HandoverSender.Outgoing> out = listen(1);
        try (HandoverSocket socket = HandoverSocket.open(dir.resolve("handover.sock"))) {
            // 1. mode 0600 keeps nobody out at connect()
            assertThat(Files.getPosixFilePermissions(socket.path()))
                    .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            assertThat(runAsNobody(probe, socket.path()))
                    .contains("uid " + nobody)
                    .contains("connect failed")
                    .contains("Permission denied");

            // 2. with the mode loosened, the peer check (SO_PEERCRED) refuses it: no descriptor leaves this process
            Files.setPosixFilePermissions(socket.path(), PosixFilePermissions.fromString("rw-rw-rw-"));
            CompletableFuture<Long> served = serve(socket, out, -1);
            String refused = runAsNobody(probe, socket.path());
            assertThat(refused)
                    .contains("uid " + nobody)
                    .containsPattern("got \\d+ bytes and 0 descriptors: ")
                    .contains("\"error\":\"permission denied: the process connecting to " + socket.path() + " is uid "
                            + nobody + " (nobody");
            assertThat(refused).doesNotContain("\"sockets\"");
            // 3. the sender still waits for the right peer: the same probe as root is sent the sockets (its plain
            // read() lets the kernel drop the descriptors that came with them, which is all this probe can do)
            String served1 = run(
                    ChildJvm.javaExecutable(),
                    "-XX:-UsePerfData",
                    probe.toString(),
                    socket.path().toString());
            assertThat(served1)
                    .contains("uid 0")
                    .containsPattern("got \\d+ bytes and 0 descriptors: \\{\"protocol\":\"governor-handover\"")
                    .contains("\"sockets\":[{\"name\":\"l0\",\"kind\":\"tcp\"");
            // the root probe closed without confirming: the handover failed, cleanly, with the reason
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> served.get(60, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(HandoverException.class)
                    .cause()
                    .hasMessage("the receiver closed the connection before it was ready");
        }
    }

    private Path writeProbe() throws Exception {
        Path probeDir = Files.createDirectory(dir.resolve("probe"));
        Path probe = probeDir.resolve("HandoverProbe.java");
        // a single-file program with no class path: connects, says hello, reports what came back (bytes, and
        // SCM_RIGHTS descriptors seen in /proc/self/fd growing)
        Files.writeString(probe, """
                import java.net.UnixDomainSocketAddress;
                import java.nio.ByteBuffer;
                import java.nio.channels.SocketChannel;
                import java.nio.file.*;
                public class HandoverProbe {
                    public static void main(String[] a) throws Exception {
                        System.out.println("uid " + new com.sun.security.auth.module.UnixSystem().getUid());
                        SocketChannel ch;
                        try {
                            ch = SocketChannel.open(UnixDomainSocketAddress.of(a[0]));
                        } catch (Exception e) {
                            System.out.println("connect failed: " + e.getMessage());
                            return;
                        }
                        long before = fds();
                        ch.write(ByteBuffer.wrap("handover 1\\n".getBytes()));
                        ByteBuffer buf = ByteBuffer.allocate(65536);
                        int total = 0;
                        for (int n; (n = ch.read(buf)) > 0; ) { total += n; if (total > 4) break; }
                        long after = fds();
                        System.out.println("got " + total + " bytes and " + (after - before) + " descriptors: "
                                + new String(buf.array(), 4, Math.max(0, buf.position() - 4)).replaceAll("[^ -~]", "?"));
                        ch.close();
                    }
                    static long fds() throws Exception {
                        try (var list = Files.list(Path.of("/proc/self/fd"))) {
                            return list.count();
                        }
                    }
                }
                """);
        Files.setPosixFilePermissions(probeDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(probe, PosixFilePermissions.fromString("rw-r--r--"));
        return probe;
    }

    private String runAsNobody(Path probe, Path socket) throws Exception {
        return run(
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                ChildJvm.javaExecutable(),
                "-XX:-UsePerfData",
                "-Djava.io.tmpdir=" + probe.getParent(),
                probe.toString(),
                socket.toString());
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }
}
