package dev.governor.runtime.systemd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.runtime.internal.os.Libc;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Socket activation in-process: real sockets are moved to free descriptor numbers and the
 * environment systemd would set is handed to the parser, with those numbers as the first fd.
 */
class SocketActivationTest {

    private static final InetSocketAddress LOOPBACK_ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<String> unset = new ArrayList<>();
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

    /** Puts a duplicate of the channel's socket at the next descriptor of the run, as systemd lines them up. */
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
        for (int base = 700; base < 1000; base += length) {
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

    private SocketActivation parse(Map<String, String> env) {
        return SocketActivation.parse(
                env,
                ProcessHandle.current().pid(),
                firstFd < 0 ? freeRun(8) : firstFd,
                unset::add,
                SdNotify.disabled());
    }

    private static Map<String, String> env(String fds, String pid, String names) {
        Map<String, String> env = new HashMap<>();
        if (fds != null) {
            env.put("LISTEN_FDS", fds);
        }
        if (pid != null) {
            env.put("LISTEN_PID", pid);
        }
        if (names != null) {
            env.put("LISTEN_FDNAMES", names);
        }
        return env;
    }

    private static String ourPid() {
        return Long.toString(ProcessHandle.current().pid());
    }

    private ServerSocketChannel tcpListener() throws IOException {
        return closeLater(ServerSocketChannel.open().bind(LOOPBACK_ANY));
    }

    private static String echoOnce(InetSocketAddress at, ServerSocketChannel server, String text) throws Exception {
        // the server accepts on a virtual thread with a blocking accept(), as a Governor service would
        CompletableFuture<String> served = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (SocketChannel c = server.accept()) {
                ByteBuffer b = ByteBuffer.allocate(64);
                c.read(b);
                b.flip();
                c.write(b.duplicate());
                served.complete(StandardCharsets.UTF_8.decode(b).toString());
            } catch (Throwable t) {
                served.completeExceptionally(t);
            }
        });
        try (SocketChannel client = SocketChannel.open(at)) {
            client.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            ByteBuffer back = ByteBuffer.allocate(64);
            client.read(back);
            back.flip();
            assertThat(served.get(30, TimeUnit.SECONDS)).isEqualTo(text);
            return StandardCharsets.UTF_8.decode(back).toString();
        }
    }

    @Test
    void aNamedTcpListenerIsTheInheritedSocketAsAServerSocketChannel() throws Exception {
        ServerSocketChannel original = tcpListener();
        DatagramChannel udp =
                closeLater(DatagramChannel.open(StandardProtocolFamily.INET).bind(LOOPBACK_ANY));
        int echoFd = place(original);
        place(udp);
        SocketActivation sa = parse(env("2", ourPid(), "echo:dns"));

        assertThat(sa.problems()).isEmpty();
        assertThat(sa.inherited()).extracting(SocketActivation.Inherited::name).containsExactly("echo", "dns");
        assertThat(unset).containsExactlyInAnyOrder("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES");
        assertThat(Libc.closeOnExec(echoFd)).as("inherited fds get FD_CLOEXEC").isTrue();

        ServerSocketChannel echo =
                closeLater(sa.tcp("echo", new InetSocketAddress(InetAddress.getLoopbackAddress(), 1)));
        InetSocketAddress bound = (InetSocketAddress) original.getLocalAddress();
        assertThat(echo.getLocalAddress()).isEqualTo(bound);
        assertThat(echo.socket().getLocalPort()).isEqualTo(bound.getPort());
        assertThat(echo.isBlocking()).isTrue();
        assertThat(echoOnce(bound, echo, "hello")).isEqualTo("hello");
    }

    @Test
    void aListenerClosedByItsServiceIsHandedOutAgainOverTheSameSocket() throws Exception {
        ServerSocketChannel original = tcpListener();
        place(original);
        SocketActivation sa = parse(env("1", ourPid(), "echo"));
        InetSocketAddress bound = (InetSocketAddress) original.getLocalAddress();
        original.close(); // only the inherited descriptor holds the socket now

        sa.tcp("echo").close(); // a first run of the service ends
        try (ServerSocketChannel again = sa.tcp("echo")) {
            assertThat(again.getLocalAddress()).isEqualTo(bound);
            assertThat(echoOnce(bound, again, "restarted")).isEqualTo("restarted");
        }
    }

    @Test
    void aNamedUdpSocketReceivesAndAnswersIpv4() throws Exception {
        DatagramChannel original =
                closeLater(DatagramChannel.open(StandardProtocolFamily.INET).bind(LOOPBACK_ANY));
        place(original);
        SocketActivation sa = parse(env("1", ourPid(), "dns"));
        try (DatagramChannel dns = sa.udp("dns", LOOPBACK_ANY);
                DatagramChannel client =
                        DatagramChannel.open(StandardProtocolFamily.INET).bind(LOOPBACK_ANY)) {
            assertThat(dns.getLocalAddress()).isEqualTo(original.getLocalAddress());
            client.send(ByteBuffer.wrap(new byte[] {7}), original.getLocalAddress());
            ByteBuffer b = ByteBuffer.allocate(8);
            var from = dns.receive(b);
            assertThat(from).isEqualTo(client.getLocalAddress());
            b.flip();
            assertThat(dns.send(b, from)).as("a reply to an IPv4 peer").isEqualTo(1);
            ByteBuffer reply = ByteBuffer.allocate(8);
            client.receive(reply);
            assertThat(reply.get(0)).isEqualTo((byte) 7);
        }
    }

    @Test
    void aNamedUnixListenerIsAUnixServerSocketChannel() throws Exception {
        Path path = dir.resolve("ctl.sock");
        ServerSocketChannel original = closeLater(
                ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(path)));
        place(original);
        SocketActivation sa = parse(env("1", ourPid(), "ctl"));
        try (ServerSocketChannel ctl = sa.unix("ctl");
                SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path));
                SocketChannel accepted = ctl.accept()) {
            assertThat(ctl.getLocalAddress()).isEqualTo(UnixDomainSocketAddress.of(path));
            client.write(ByteBuffer.wrap(new byte[] {1}));
            assertThat(accepted.read(ByteBuffer.allocate(4))).isEqualTo(1);
        }
    }

    @Test
    void withNothingInheritedAListenerBindsAfreshOrFailsWhenInheritOnly() throws Exception {
        SocketActivation sa = parse(Map.of());
        assertThat(sa.inherited()).isEmpty();
        assertThat(sa.problems()).isEmpty();
        try (ServerSocketChannel echo = sa.tcp("echo", LOOPBACK_ANY)) {
            InetSocketAddress bound = (InetSocketAddress) echo.getLocalAddress();
            assertThat(bound.getPort()).isPositive();
            assertThat(echoOnce(bound, echo, "fresh")).isEqualTo("fresh");
        }
        assertThatThrownBy(() -> sa.tcp("admin"))
                .isInstanceOf(IOException.class)
                .hasMessage("no inherited socket named \"admin\" (inherited: none) and the listener is inherit-only");
    }

    @Test
    void aUnixListenerBindsAfreshOverTheSocketFileAPreviousRunLeft() throws Exception {
        Path path = dir.resolve("ctl.sock");
        ServerSocketChannel previous =
                ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(path));
        previous.close(); // the JDK leaves the socket file behind, as a crashed process would
        assertThat(path).exists();
        try (ServerSocketChannel ctl = parse(Map.of()).unix("ctl", path);
                SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path));
                SocketChannel accepted = ctl.accept()) {
            client.write(ByteBuffer.wrap(new byte[] {3}));
            assertThat(accepted.read(ByteBuffer.allocate(4))).isEqualTo(1);
        }
    }

    @Test
    void aFreshlyBoundListenerIsPushedToTheFdStoreUnderItsName() throws Exception {
        try (NotifyReceiver systemd = NotifyReceiver.bind(SdNotifyTest.abstractName("sa-fdstore"))) {
            SocketActivation sa = SocketActivation.parse(
                    Map.of(),
                    ProcessHandle.current().pid(),
                    SocketActivation.FIRST_FD,
                    unset::add,
                    SdNotify.to(systemd.address()));
            try (ServerSocketChannel echo = sa.tcp("echo", LOOPBACK_ANY)) {
                NotifyReceiver.Message m = systemd.await(x -> x.has("FDSTORE", "1"), Duration.ofSeconds(30));
                assertThat(m.fields()).containsEntry("FDNAME", "echo");
                try (ServerSocketChannel stored =
                        FdChannels.serverSocket(Libc.dup(m.fds().getFirst()))) {
                    InetSocketAddress bound = (InetSocketAddress) echo.getLocalAddress();
                    assertThat(stored.getLocalAddress()).isEqualTo(bound);
                    assertThat(echoOnce(bound, stored, "stored")).isEqualTo("stored");
                }
            }
        }
    }

    @Test
    void listenFdsThatIsNotANumberIsLoggedAndIgnored() throws Exception {
        SocketActivation sa = parse(env("abc", ourPid(), "echo"));
        assertThat(sa.inherited()).isEmpty();
        assertThat(sa.problems())
                .containsExactly("LISTEN_FDS=abc is not a number: nothing inherited, listeners bind afresh");
        assertThat(unset).containsExactlyInAnyOrder("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES");
        try (ServerSocketChannel echo = sa.tcp("echo", LOOPBACK_ANY)) {
            assertThat(((InetSocketAddress) echo.getLocalAddress()).getPort()).isPositive();
        }
    }

    @Test
    void listenPidOfAnotherProcessIsLoggedAndItsDescriptorsAreLeftAlone() throws Exception {
        ServerSocketChannel theirs = tcpListener();
        int fd = place(theirs);
        long other = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
        SocketActivation sa = parse(env("1", Long.toString(other), "echo"));
        assertThat(sa.inherited()).isEmpty();
        assertThat(sa.problems())
                .containsExactly("LISTEN_PID=" + other + " names another process (this is pid "
                        + ProcessHandle.current().pid()
                        + "): the descriptors are not ours, nothing inherited, listeners bind afresh");
        assertThat(Libc.closeOnExec(fd))
                .as("a descriptor that is not ours is not touched")
                .isFalse();
        try (ServerSocketChannel echo = sa.tcp("echo", LOOPBACK_ANY)) {
            assertThat(echo.getLocalAddress()).as("bound afresh").isNotEqualTo(theirs.getLocalAddress());
        }
    }

    @Test
    void listenFdnamesWithTheWrongCountDropsTheNamesButKeepsAnUnambiguousSocket() throws Exception {
        ServerSocketChannel original = tcpListener();
        place(original);
        place(closeLater(DatagramChannel.open(StandardProtocolFamily.INET).bind(LOOPBACK_ANY)));
        SocketActivation sa = parse(env("2", ourPid(), "echo"));
        assertThat(sa.problems())
                .containsExactly("LISTEN_FDNAMES=echo has 1 name(s) for LISTEN_FDS=2: the names are"
                        + " ignored, a listener takes an inherited descriptor only when it is the one of its kind");
        assertThat(sa.inherited()).extracting(SocketActivation.Inherited::name).containsExactly("unknown", "unknown");
        try (ServerSocketChannel echo = sa.tcp("echo", LOOPBACK_ANY)) {
            assertThat(echo.getLocalAddress()).as("the only tcp listener").isEqualTo(original.getLocalAddress());
        }
    }

    @Test
    void twoUnnamedSocketsOfOneKindAreNotGuessedBetween() throws Exception {
        place(tcpListener());
        place(tcpListener());
        SocketActivation sa = parse(env("2", ourPid(), null));
        assertThatThrownBy(() -> sa.tcp("echo")).hasMessageContaining("no inherited socket named \"echo\"");
    }

    @Test
    void anInheritedSocketOfTheWrongKindIsAnError() throws Exception {
        place(closeLater(DatagramChannel.open(StandardProtocolFamily.INET).bind(LOOPBACK_ANY)));
        SocketActivation sa = parse(env("1", ourPid(), "echo"));
        assertThatThrownBy(() -> sa.tcp("echo", LOOPBACK_ANY))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("named \"echo\" is a udp socket (INET), not the tcp listener asked for");
    }

    @Test
    void anInheritedDescriptorThatIsNotASocketIsSkipped() throws Exception {
        Path file = dir.resolve("plain");
        java.nio.file.Files.writeString(file, "x");
        firstFd = freeRun(8);
        int fd = firstFd;
        placed = 1;
        int src = Libc.open(file.toString(), Libc.O_RDONLY, 0);
        Libc.dup2(src, fd);
        Libc.close(src);
        SocketActivation sa = parse(env("1", ourPid(), "echo"));
        assertThat(sa.inherited()).isEmpty();
        assertThat(sa.problems())
                .containsExactly("LISTEN_FDS=1: 1 of the 1 descriptors looked at are not open sockets (fd " + fd
                        + "): ignored; LISTEN_FDS overstates what was passed");
    }

    @Test
    void listenFdsWithoutListenPidIsNotTrusted() {
        SocketActivation sa = parse(env("1", null, null));
        assertThat(sa.inherited()).isEmpty();
        assertThat(sa.problems()).singleElement().asString().contains("LISTEN_PID is not");
    }

    @Test
    void namesAreCheckedAsSystemdChecksThem() {
        SocketActivation sa = parse(Map.of());
        assertThatThrownBy(() -> sa.tcp("a:b", LOOPBACK_ANY)).hasMessageContaining("fd name \"a:b\"");
        assertThatThrownBy(() -> sa.tcp("", LOOPBACK_ANY)).hasMessageContaining("must be 1 to 255 characters");
    }
}
