package dev.governor.runtime.internal.os;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.runtime.TestJvms;
import dev.governor.runtime.systemd.FdChannels;
import dev.governor.runtime.systemd.NotifyReceiver;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URL;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JNI library sd_notify sends through (issue 13, W4): built with the runtime, loaded from a
 * directory and from a jar, sending what it is given, failing as {@link Libc} does, leaking nothing.
 */
class LibcJniTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private static String library() {
        return LibcJni.resource(System.getProperty("os.arch"));
    }

    /** On CI the build must have made the library (a C compiler is installed there); elsewhere it may be missing. */
    private static void requireLibrary() {
        boolean built = LibcJni.class.getResource(library()) != null;
        if (!built && !"true".equals(System.getenv("CI"))) {
            Assumptions.abort("built without a C compiler: " + LibcJni.unavailableBecause());
        }
        assertThat(LibcJni.available())
                .as("the JNI notify library: %s", LibcJni.unavailableBecause())
                .isTrue();
        assertThat(LibcJni.unavailableBecause()).isEmpty();
    }

    /** A {@code sockaddr_un} for the path {@code path}, NUL-terminated, as {@code connect} takes it. */
    private static byte[] sockaddr(String path) {
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        byte[] addr = new byte[2 + name.length + 1];
        addr[ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? 0 : 1] = (byte) Libc.AF_UNIX;
        System.arraycopy(name, 0, addr, 2, name.length);
        return addr;
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    @Test
    void sendsOneDatagramWithItsDescriptors() throws Exception {
        requireLibrary();
        try (NotifyReceiver systemd = NotifyReceiver.bind(dir.resolve("notify").toString());
                ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int fd = FdChannels.fd(listener);
            byte[] payload = "FDSTORE=1\nFDNAME=web".getBytes(StandardCharsets.UTF_8);

            int sent = LibcJni.send(
                    sockaddr(systemd.address()), systemd.address(), payload, new int[] {fd, fd}, Libc.MSG_NOSIGNAL);

            assertThat(sent).isEqualTo(payload.length);
            NotifyReceiver.Message m = systemd.await(x -> x.has("FDSTORE", "1"), WAIT);
            assertThat(m.text()).isEqualTo("FDSTORE=1\nFDNAME=web");
            assertThat(m.fds()).hasSize(2);
            for (int passed : m.fds()) { // the listening socket itself, twice
                assertThat(Libc.localAddress(passed)).isEqualTo(listener.getLocalAddress());
                Libc.close(passed);
            }
        }
    }

    @Test
    void aFailedSendNamesTheCallItsErrnoAndLibcsWordsForIt() throws Exception {
        requireLibrary();
        String missing = dir.resolve("no-such-socket").toString();
        byte[] ready = "READY=1".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> LibcJni.send(sockaddr(missing), missing, ready, new int[0], 0))
                .isInstanceOfSatisfying(ErrnoException.class, e -> {
                    assertThat(e.errno()).isEqualTo(2);
                    assertThat(e.call()).isEqualTo("connect(" + missing + ")");
                })
                .hasMessage("connect(" + missing + ") failed: No such file or directory (errno 2)");

        try (NotifyReceiver systemd = NotifyReceiver.bind(dir.resolve("notify").toString())) {
            byte[] addr = sockaddr(systemd.address());
            assertThatThrownBy(() -> LibcJni.send(addr, "notify", ready, new int[] {-1}, 0))
                    .isInstanceOfSatisfying(
                            ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Libc.EBADF))
                    .hasMessage("sendmsg(notify, 7 bytes, 1 descriptors) failed: Bad file descriptor (errno 9)");
            int einval = 22;
            assertThatThrownBy(() -> LibcJni.send(new byte[] {1}, "one byte", ready, new int[0], 0))
                    .isInstanceOfSatisfying(
                            ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(einval))
                    .hasMessageStartingWith("sd_notify send to one byte (1-byte address, 0 descriptors) failed");
            assertThatThrownBy(() -> LibcJni.send(addr, "notify", ready, new int[Libc.SCM_MAX_FD + 1], 0))
                    .isInstanceOfSatisfying(
                            ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(einval))
                    .hasMessageContaining("254 descriptors");
            assertThatThrownBy(() -> LibcJni.send(addr, "notify", null, new int[0], 0))
                    .isInstanceOf(NullPointerException.class)
                    .hasMessage("payload");
            assertThat(systemd.messages()).isEmpty();
        }
    }

    @Test
    void leavesNoDescriptorBehindWhetherASendWorksOrFails() throws Exception {
        requireLibrary();
        try (NotifyReceiver systemd = NotifyReceiver.bind(dir.resolve("notify").toString())) {
            byte[] good = sockaddr(systemd.address());
            byte[] bad = sockaddr(dir.resolve("missing").toString());
            byte[] watchdog = "WATCHDOG=1".getBytes(StandardCharsets.UTF_8);
            LibcJni.send(good, "warm-up", watchdog, new int[0], 0);
            long before = openDescriptors();
            for (int i = 0; i < 200; i++) {
                LibcJni.send(good, "notify", watchdog, new int[0], 0);
                assertThatThrownBy(() -> LibcJni.send(bad, "missing", watchdog, new int[0], 0))
                        .isInstanceOf(ErrnoException.class);
            }
            assertThat(openDescriptors()).isEqualTo(before);
            systemd.await(m -> systemd.messages().size() == 201, WAIT);
            assertThat(systemd.messages()).hasSize(201).allMatch(m -> m.text().equals("WATCHDOG=1"));
        }
    }

    /** {@code -Ddev.governor.jni=false} turns the library off for the whole JVM: sends go through FFM. */
    @Test
    void thePropertyTurnsTheLibraryOffAndFfmSendsInstead() throws Exception {
        try (NotifyReceiver systemd = NotifyReceiver.bind(dir.resolve("notify").toString())) {
            Process p = TestJvms.start(
                    List.of("--enable-native-access=ALL-UNNAMED", "-D" + LibcJni.DISABLE_PROPERTY + "=false"),
                    JniOffMain.class,
                    systemd.address());
            try {
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("child JVM ends").isTrue();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(p.exitValue()).as(out).isZero();
                assertThat(out)
                        .contains("AVAILABLE: false")
                        .contains("BECAUSE: turned off with -Ddev.governor.jni=false")
                        .contains("SENT: true");
                assertThat(systemd.await(m -> m.has("READY", "1"), WAIT).fields())
                        .containsEntry("STATUS", "through FFM");
            } finally {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** From a jar, the library is copied to a fresh file, loaded, and the copy deleted. */
    @Test
    void loadsFromAJarThroughACopyItDeletes() throws Exception {
        requireLibrary();
        URL built = LibcJni.class.getResource(library());
        Path jar = dir.resolve("runtime.jar");
        String entry = "dev/governor/runtime/internal/os/" + library();
        try (OutputStream out = Files.newOutputStream(jar);
                JarOutputStream j = new JarOutputStream(out)) {
            j.putNextEntry(new JarEntry(entry));
            j.write(built.openStream().readAllBytes());
            j.closeEntry();
        }
        Path tmp = Files.createDirectory(dir.resolve("tmp"));
        URL inJar = URI.create("jar:" + jar.toUri() + "!/" + entry).toURL();

        assertThat(LibcJni.loadFrom(inJar, tmp)).isNull();
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left).isEmpty();
        }
        Path noSuchDir = dir.resolve("gone");
        assertThat(LibcJni.loadFrom(inJar, noSuchDir)).startsWith("cannot load " + inJar + ": ");
    }
}
