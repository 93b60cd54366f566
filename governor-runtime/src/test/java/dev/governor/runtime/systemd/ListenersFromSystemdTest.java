package dev.governor.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.runtime.internal.os.Libc;
import dev.governor.runtime.listen.Fds;
import dev.governor.runtime.listen.GovernorListeners;
import dev.governor.runtime.listen.HandedOverSockets;
import dev.governor.runtime.listen.ListenerInfo;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The governor's listeners over what systemd passed: real sockets are put at free descriptor
 * numbers and the environment systemd would set is parsed, as in {@link SocketActivationTest}.
 */
class ListenersFromSystemdTest {

    private static final InetSocketAddress LOOPBACK_ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private int firstFd = -1;
    private int placed;

    @AfterEach
    void cleanUp() throws Exception {
        for (AutoCloseable c : toClose.reversed()) {
            c.close();
        }
        for (int i = 0; i < placed; i++) {
            Libc.close(firstFd + i);
        }
    }

    private int place(java.nio.channels.Channel channel) throws IOException {
        if (firstFd < 0) {
            firstFd = freeRun(8);
        }
        int target = firstFd + placed++;
        Libc.dup2(FdChannels.fd(channel), target); // throws, naming the errno, when it fails
        return target;
    }

    private static int freeRun(int length) {
        outer:
        for (int base = 600; base < 1000; base += length) {
            for (int fd = base; fd < base + length; fd++) {
                if (Libc.isOpen(fd)) {
                    continue outer;
                }
            }
            return base;
        }
        throw new IllegalStateException("no free run of descriptors");
    }

    private <T extends AutoCloseable> T closeLater(T c) {
        toClose.add(c);
        return c;
    }

    private SocketActivation activation(int count, String names) {
        return SocketActivation.parse(
                Map.of(
                        "LISTEN_FDS",
                        Integer.toString(count),
                        "LISTEN_PID",
                        Long.toString(ProcessHandle.current().pid()),
                        "LISTEN_FDNAMES",
                        names),
                ProcessHandle.current().pid(),
                firstFd,
                x -> {},
                SdNotify.disabled());
    }

    @Test
    void aSocketPassedByNameIsTheListenerWhateverAddressIsAsked() throws Exception {
        ServerSocketChannel passed = closeLater(ServerSocketChannel.open().bind(LOOPBACK_ANY));
        place(passed);
        GovernorListeners listeners = closeLater(new GovernorListeners(
                List.of(
                        HandedOverSockets.instance(),
                        new dev.governor.runtime.listen.SystemdSockets(activation(1, "http"))),
                SdNotify::disabled));
        InetSocketAddress fallback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1);
        try (ServerSocketChannel http = listeners.tcp("http", fallback);
                SocketChannel client = SocketChannel.open((InetSocketAddress) passed.getLocalAddress());
                SocketChannel accepted = http.accept()) {
            assertThat(http.getLocalAddress()).isEqualTo(passed.getLocalAddress());
            client.write(ByteBuffer.wrap(new byte[] {1}));
            assertThat(accepted.read(ByteBuffer.allocate(1))).isEqualTo(1);
        }
        ListenerInfo info = listeners.info().getFirst();
        assertThat(info.source()).isEqualTo("systemd");
        assertThat(info.address()).isEqualTo("127.0.0.1:" + ((InetSocketAddress) passed.getLocalAddress()).getPort());
    }

    @Test
    void aSocketPassedUnderTheNameButOfAnotherKindIsAnError() throws Exception {
        DatagramChannel passed = closeLater(DatagramChannel.open().bind(LOOPBACK_ANY));
        place(passed);
        GovernorListeners listeners = closeLater(new GovernorListeners(
                List.of(new dev.governor.runtime.listen.SystemdSockets(activation(1, "http"))), SdNotify::disabled));
        assertThatThrownBy(() -> listeners.tcp("http", LOOPBACK_ANY))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("named \"http\"")
                .hasMessageContaining("not the tcp listener asked for");
        assertThat(listeners.names()).isEmpty();
    }

    @Test
    void aNameSystemdDidNotPassIsBoundFresh() throws Exception {
        ServerSocketChannel passed = closeLater(ServerSocketChannel.open().bind(LOOPBACK_ANY));
        place(passed);
        ServerSocketChannel other = closeLater(ServerSocketChannel.open().bind(LOOPBACK_ANY));
        place(other);
        GovernorListeners listeners = closeLater(new GovernorListeners(
                List.of(new dev.governor.runtime.listen.SystemdSockets(activation(2, "http:admin"))),
                SdNotify::disabled));
        try (ServerSocketChannel metrics = listeners.tcp("metrics", LOOPBACK_ANY)) {
            assertThat(metrics.getLocalAddress()).isNotIn(passed.getLocalAddress(), other.getLocalAddress());
        }
        assertThat(listeners.info().getFirst().source()).isEqualTo("bound");
    }

    @Test
    void aHandedOverSocketComesBeforeTheOneSystemdPassed() throws Exception {
        ServerSocketChannel passed = closeLater(ServerSocketChannel.open().bind(LOOPBACK_ANY));
        place(passed);
        ServerSocketChannel previous = closeLater(ServerSocketChannel.open().bind(LOOPBACK_ANY));
        HandedOverSockets.instance().offer("web", Fds.dup(Fds.fd(previous)));
        GovernorListeners listeners = closeLater(new GovernorListeners(
                List.of(
                        HandedOverSockets.instance(),
                        new dev.governor.runtime.listen.SystemdSockets(activation(1, "web"))),
                SdNotify::disabled));
        try (ServerSocketChannel web = listeners.tcp("web", LOOPBACK_ANY)) {
            assertThat(web.getLocalAddress()).isEqualTo(previous.getLocalAddress());
        }
        assertThat(listeners.info().getFirst().source()).isEqualTo("handed-over");
    }
}
