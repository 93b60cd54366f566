package dev.governor.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.runtime.internal.os.Libc;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * sd_notify's client against a real receiver, sending as a daemon does: through the runtime's JNI
 * library where it is in use (LibcJniTest checks that it is), {@link SdNotifyViaFfmTest}
 * through the FFM binding, its fallback.
 */
class SdNotifyTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    static String abstractName(String what) {
        return "@governor-test-" + ProcessHandle.current().pid() + "-" + what + "-" + System.nanoTime();
    }

    @Test
    void shouldDeliverEveryKindOfMessageToAPathSocket() throws Exception {
        try (NotifyReceiver systemd = NotifyReceiver.bind(dir.resolve("notify").toString())) {
            SdNotify notify = SdNotify.to(systemd.address());
            assertThat(notify.enabled()).isTrue();

            assertThat(notify.ready()).isTrue();
            assertThat(notify.status("3 running\n1 restarting")).isTrue();
            assertThat(notify.extendTimeout(Duration.ofSeconds(7))).isTrue();
            assertThat(notify.mainPid(ProcessHandle.current().pid())).isTrue();
            assertThat(notify.stopping()).isTrue();

            systemd.await(m -> m.has("STOPPING", "1"), WAIT);
            assertThat(systemd.messages())
                    .extracting(NotifyReceiver.Message::text)
                    .containsExactly(
                            "READY=1",
                            "STATUS=3 running 1 restarting",
                            "EXTEND_TIMEOUT_USEC=7000000",
                            "MAINPID=" + ProcessHandle.current().pid(),
                            "STOPPING=1");
            assertThat(notify.sent()).isEqualTo(5);
            assertThat(notify.failed()).isZero();
        }
    }

    @Test
    void shouldDeliverToAnAbstractSocket() throws Exception {
        try (NotifyReceiver systemd = NotifyReceiver.bind(abstractName("abstract"))) {
            SdNotify.to(systemd.address()).watchdog();
            assertThat(systemd.await(m -> true, WAIT).text()).isEqualTo("WATCHDOG=1");
        }
    }

    @Test
    void shouldReceiveWhatTheRealSystemdNotifySends() throws Exception {
        // our receiver reads what systemd's own client writes, so the two speak the same protocol
        for (String address : new String[] {dir.resolve("real").toString(), abstractName("real")}) {
            try (NotifyReceiver systemd = NotifyReceiver.bind(address)) {
                ProcessBuilder pb = new ProcessBuilder(
                                "/usr/bin/systemd-notify", "--ready", "--status=from the real tool")
                        .redirectErrorStream(true);
                pb.environment().put("NOTIFY_SOCKET", systemd.address());
                Process p = pb.start();
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(p.exitValue())
                        .as(new String(p.getInputStream().readAllBytes()))
                        .isZero();
                NotifyReceiver.Message m = systemd.await(x -> x.has("READY", "1"), WAIT);
                assertThat(m.fields()).containsEntry("STATUS", "from the real tool");
            }
        }
    }

    @Test
    void reloadingCarriesTheMonotonicClockInMicroseconds() throws Exception {
        try (NotifyReceiver systemd = NotifyReceiver.bind(abstractName("reload"))) {
            long before = TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
            SdNotify.to(systemd.address()).reloading();
            long after = TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
            NotifyReceiver.Message m = systemd.await(x -> x.has("RELOADING", "1"), WAIT);
            long usec = Long.parseLong(m.get("MONOTONIC_USEC").orElseThrow());
            // clock_gettime(CLOCK_MONOTONIC) and HotSpot's nanoTime read the same clock on Linux
            assertThat(usec).isBetween(before, after);
        }
    }

    @Test
    void fdStorePassesTheListeningSocketItself() throws Exception {
        try (NotifyReceiver systemd = NotifyReceiver.bind(abstractName("fdstore"));
                ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            assertThat(SdNotify.to(systemd.address()).fdStore("echo", listener)).isTrue();

            NotifyReceiver.Message m = systemd.await(x -> x.has("FDSTORE", "1"), WAIT);
            assertThat(m.fields()).containsEntry("FDNAME", "echo");
            assertThat(m.fds()).hasSize(1);
            // accept through the passed descriptor: it is the very socket we listen on
            try (ServerSocketChannel passed =
                            FdChannels.serverSocket(Libc.dup(m.fds().getFirst()));
                    SocketChannel client = SocketChannel.open(listener.getLocalAddress());
                    SocketChannel accepted = passed.accept()) {
                assertThat(passed.getLocalAddress()).isEqualTo(listener.getLocalAddress());
                client.write(ByteBuffer.wrap(new byte[] {42}));
                ByteBuffer one = ByteBuffer.allocate(1);
                accepted.read(one);
                assertThat(one.get(0)).isEqualTo((byte) 42);
            }
        }
    }

    @Test
    void fdStoreRemoveNamesTheFds() throws Exception {
        try (NotifyReceiver systemd = NotifyReceiver.bind(abstractName("fdremove"))) {
            SdNotify.to(systemd.address()).fdStoreRemove("echo");
            assertThat(systemd.await(x -> true, WAIT).text()).isEqualTo("FDSTOREREMOVE=1\nFDNAME=echo");
        }
    }

    @Test
    void unsetNotifySocketMakesEveryCallANoOp() {
        SdNotify notify = SdNotify.to(null);
        assertThat(notify.enabled()).isFalse();
        assertThat(notify.ready()).isFalse();
        assertThat(notify.watchdog()).isFalse();
        assertThat(notify.failed()).isZero();
        assertThat(notify).hasToString("SdNotify[disabled: NOTIFY_SOCKET is not set]");
    }

    @Test
    void aNotifySocketThatDoesNotExistFailsQuietlyAndIsCounted() throws IOException {
        Path missing = dir.resolve("no-such-socket");
        SdNotify notify = SdNotify.to(missing.toString());
        assertThat(notify.enabled()).isTrue();
        assertThat(notify.ready()).isFalse();
        assertThat(notify.status("still fine")).isFalse();
        assertThat(notify.failed()).isEqualTo(2);
        assertThat(notify.toString()).contains("No such file or directory");
        assertThat(Files.exists(missing)).isFalse();
    }

    @Test
    void aNotifySocketPathTooLongDisablesTheClient() {
        String tooLong = "/tmp/" + "x".repeat(120);
        SdNotify notify = SdNotify.to(tooLong);
        assertThat(notify.enabled()).isFalse();
        assertThat(notify.ready()).isFalse();
        assertThat(notify.toString()).contains("125 bytes long, more than the 107");
    }

    @Test
    void aRelativeOrForeignNotifySocketDisablesTheClient() {
        assertThat(SdNotify.to("run/notify").toString()).contains("must be an absolute path or an abstract name");
        assertThat(SdNotify.to("vsock:2:1234").enabled()).isFalse();
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        SdNotify notify = SdNotify.disabled();
        assertThatThrownBy(() -> notify.send(" ")).hasMessageContaining("state must hold at least one KEY=VALUE line");
        assertThatThrownBy(() -> notify.fdStore("a:b", 3)).hasMessageContaining("fd name \"a:b\"");
        assertThatThrownBy(() -> notify.extendTimeout(Duration.ZERO))
                .hasMessageContaining("within must be positive, was PT0S");
        assertThatThrownBy(() -> notify.mainPid(0)).hasMessageContaining("pid must be positive, was 0");
    }
}
