package dev.governor.runtime.internal.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native binding: its error style, and calls checked against what the JDK and /proc say; through
 * the JNI library where it is in use for a call, {@link LibcViaFfmTest} through FFM alone.
 */
class LibcTest {
    @TempDir
    Path dir;

    @Test
    void aFailedCallNamesItselfItsErrnoAndLibcsWordsForIt() {
        assertThatThrownBy(() -> Libc.dup2(-1, 1000))
                .isInstanceOfSatisfying(ErrnoException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Libc.EBADF);
                    assertThat(e.call()).isEqualTo("dup2(-1, 1000)");
                })
                .hasMessage("dup2(-1, 1000) failed: Bad file descriptor (errno 9)");
        assertThatThrownBy(() -> Libc.open(dir.resolve("missing").toString(), Libc.O_RDONLY, 0))
                .hasMessage("open(" + dir.resolve("missing") + ", 0) failed: No such file or directory (errno 2)");
    }

    /**
     * What {@code linkAheadForNotify} runs to take the first pass through the FFM code off the path
     * to READY=1 reaches no one: both sends fail for want of a peer, the connect for want of an
     * address, and the socket is closed again.
     */
    @Test
    void theNotifyRehearsalSendsNothingAndLeavesNoDescriptor() throws Exception {
        int[] outcome = Libc.rehearsal();
        int notConnected = 107, noDestination = 89, invalid = 22; // ENOTCONN, EDESTADDRREQ, EINVAL on Linux
        assertThat(outcome[0]).as("sendmsg").isIn(notConnected, noDestination);
        assertThat(outcome[1]).as("sendmsg with an fd").isIn(notConnected, noDestination);
        assertThat(outcome[2]).as("connect").isEqualTo(invalid);
        assertThat(Files.exists(Path.of("/proc/self/fd/" + outcome[3])))
                .as("fd %d closed", outcome[3])
                .isFalse();
    }

    @Test
    void descriptorsOpenedDuplicatedAndClosedAsProcSeesThem() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "x");
        int fd = Libc.open(file.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        int copy = Libc.dupCloseOnExec(fd);
        int plain = Libc.dup(fd);
        try {
            assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd/" + plain)))
                    .isEqualTo(file);
            assertThat(Libc.closeOnExec(plain)).isFalse();
            Libc.setCloseOnExec(plain);
            assertThat(Libc.closeOnExec(plain)).isTrue();
            assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd/" + copy))).isEqualTo(file);
            assertThat(copy).isGreaterThanOrEqualTo(3).isNotEqualTo(fd);
            assertThat(Libc.closeOnExec(copy)).isTrue();
            assertThat(Libc.isSocket(copy)).isFalse();
            assertThatThrownBy(() -> Libc.socketOption(copy, Libc.SO_TYPE))
                    .isInstanceOfSatisfying(
                            ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Libc.ENOTSOCK));
        } finally {
            Libc.close(plain);
            Libc.close(copy);
            Libc.close(fd);
        }
        assertThat(Libc.isOpen(copy)).isFalse();
        assertThat(Libc.isOpen(plain)).isFalse();
        assertThatThrownBy(() -> Libc.dup(copy)).hasMessage("dup(" + copy + ") failed: Bad file descriptor (errno 9)");
        assertThatThrownBy(() -> Libc.fcntl(copy, Libc.F_GETFD, 0))
                .hasMessage("fcntl(" + copy + ", 1) failed: Bad file descriptor (errno 9)");
    }

    @Test
    void socketsAsTheJdkKnowsThem() throws Exception {
        try (ServerSocketChannel server =
                ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int fd = dev.governor.runtime.systemd.FdChannels.fd(server);
            assertThat(Libc.socketOption(fd, Libc.SO_ACCEPTCONN)).isEqualTo(1);
            assertThat(Libc.socketOption(fd, Libc.SO_TYPE)).isEqualTo(Libc.SOCK_STREAM);
            assertThat(Libc.localAddress(fd)).isEqualTo(server.getLocalAddress());
        }
    }

    @Test
    void pollTimesOutOnAnEmptyPipeAndSeesData() throws Exception {
        Pipe pipe = Pipe.open();
        try (var source = pipe.source();
                var sink = pipe.sink()) {
            int fd = dev.governor.runtime.systemd.FdChannels.fd(source);
            assertThat(Libc.poll(fd, Libc.POLLIN, 10)).isFalse();
            sink.write(java.nio.ByteBuffer.wrap(new byte[] {1}));
            assertThat(Libc.poll(fd, Libc.POLLIN, 10_000)).isTrue();
        }
    }

    @Test
    void theEffectiveUserAndItsNameAgreeWithTheJdk() throws Exception {
        long uid = ProcessCalls.geteuid();
        String name = ProcessCalls.userName(uid);
        String jdk = Files.getOwner(Files.createFile(dir.resolve("mine"))).getName();
        if (name == null) { // no passwd entry: the JDK names the owner by number
            assertThat(jdk).isEqualTo(Long.toString(uid));
        } else {
            assertThat(name).isEqualTo(jdk);
            assertThat(ProcessCalls.uidOf(name)).isEqualTo(uid);
        }
        assertThat(ProcessCalls.uidOf("no-such-user-" + ProcessHandle.current().pid()))
                .isEqualTo(-1);
    }

    @Test
    void unsetenvTakesAnyNameWithoutAnEqualsSign() throws Exception {
        ProcessCalls.unsetenv(
                "GOVERNOR_TEST_NEVER_SET_" + ProcessHandle.current().pid());
        assertThatThrownBy(() -> ProcessCalls.unsetenv("A=B"))
                .isInstanceOfSatisfying(
                        ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(22))
                .hasMessage("unsetenv(A=B) failed: Invalid argument (errno 22)");
    }

    @Test
    void theDescriptorLimitReadsAsProcShowsIt() throws Exception {
        long[] limit = ProcessCalls.getrlimit(ProcessCalls.RLIMIT_NOFILE);
        String line = Files.readAllLines(Path.of("/proc/self/limits")).stream()
                .filter(l -> l.startsWith("Max open files"))
                .findFirst()
                .orElseThrow();
        assertThat(line.split("\\s{2,}")[1]).isEqualTo(Long.toString(limit[0]));
    }
}
