package dev.governor.runtime.listen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.runtime.systemd.NotifyReceiver;
import dev.governor.runtime.systemd.SdNotify;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Sockets a governor owns: one socket per name, a new channel over it per call, real connections. */
class GovernorListenersTest {
    private static final InetSocketAddress LOOPBACK_ANY = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    @TempDir
    Path dir;

    private final GovernorListeners listeners = new GovernorListeners(List.of(), SdNotify::disabled);

    @AfterEach
    void closeAll() {
        listeners.close();
    }

    @Test
    void everyCallIsANewChannelOverTheSameSocket() throws Exception {
        try (ServerSocketChannel a = listeners.tcp("http", LOOPBACK_ANY);
                ServerSocketChannel b = listeners.tcp("http", LOOPBACK_ANY)) {
            assertThat(a).isNotSameAs(b);
            assertThat(Fds.fd(a)).isNotEqualTo(Fds.fd(b));
            assertThat(b.getLocalAddress()).isEqualTo(a.getLocalAddress());
            InetSocketAddress at = (InetSocketAddress) a.getLocalAddress();
            assertThat(echoOnce(at, b, "via b")).isEqualTo("via b");
            closeEarly(a);
            assertThat(echoOnce(at, b, "a closed, b serves")).isEqualTo("a closed, b serves");
        }
        assertThat(listeners.names()).containsExactly("http");
        assertThat(listeners.info()).singleElement().satisfies(i -> {
            assertThat(i.source()).isEqualTo("bound");
            assertThat(i.kind()).isEqualTo(ListenerKind.TCP);
            assertThat(i.address()).startsWith("127.0.0.1:").doesNotEndWith(":0");
        });
    }

    @Test
    void aClientConnectingWhileNoChannelIsOpenWaitsInTheBacklogForTheNextOne() throws Exception {
        InetSocketAddress at;
        try (ServerSocketChannel first = listeners.tcp("http", LOOPBACK_ANY)) {
            at = (InetSocketAddress) first.getLocalAddress();
        }
        // every channel handed out is closed: the socket is the governor's and still listens
        try (SocketChannel client = SocketChannel.open(at);
                ServerSocketChannel next = listeners.tcp("http", LOOPBACK_ANY);
                SocketChannel accepted = next.accept()) {
            client.write(ByteBuffer.wrap(new byte[] {42}));
            ByteBuffer one = ByteBuffer.allocate(1);
            assertThat(accepted.read(one)).isEqualTo(1);
            assertThat(one.get(0)).isEqualTo((byte) 42);
        }
    }

    @Test
    void interruptingAVirtualThreadBlockedInAcceptClosesItsChannelNotTheSocket() throws Exception {
        ServerSocketChannel channel = listeners.tcp("http", LOOPBACK_ANY);
        InetSocketAddress at = (InetSocketAddress) channel.getLocalAddress();
        CompletableFuture<Throwable> ended = new CompletableFuture<>();
        Thread acceptor = Thread.ofVirtual().start(() -> {
            try {
                channel.accept().close();
                ended.complete(null);
            } catch (Throwable t) {
                ended.complete(t);
            }
        });
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(() -> acceptor.getState() == Thread.State.WAITING
                        || acceptor.getState() == Thread.State.TIMED_WAITING);
        acceptor.interrupt();
        assertThat(ended.get(30, TimeUnit.SECONDS)).isInstanceOf(ClosedByInterruptException.class);
        assertThat(channel.isOpen()).isFalse();
        try (ServerSocketChannel again = listeners.tcp("http", LOOPBACK_ANY)) {
            assertThat(echoOnce(at, again, "still listening")).isEqualTo("still listening");
        }
    }

    @Test
    void theSameNameWithAnotherAddressOrKindIsAnErrorNamingBoth() throws Exception {
        listeners.tcp("http", LOOPBACK_ANY).close();
        InetSocketAddress other = new InetSocketAddress(InetAddress.getLoopbackAddress(), 1);
        assertThatThrownBy(() -> listeners.tcp("http", other))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("listener \"http\" is tcp 127.0.0.1:0")
                .hasMessageContaining("asked for now as tcp 127.0.0.1:1");
        assertThatThrownBy(() -> listeners.udp("http", LOOPBACK_ANY))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("listener \"http\" is tcp 127.0.0.1:0")
                .hasMessageContaining("asked for now as udp 127.0.0.1:0");
        assertThat(listeners.names()).containsExactly("http");
    }

    @Test
    void badNamesAreRefusedWithTheRule() {
        assertThatThrownBy(() -> listeners.tcp("a:b", LOOPBACK_ANY))
                .hasMessageContaining("listener name \"a:b\" has ':'");
        assertThatThrownBy(() -> listeners.tcp("", LOOPBACK_ANY)).hasMessageContaining("must not be null or empty");
        assertThatThrownBy(() -> listeners.tcp("a b", LOOPBACK_ANY))
                .hasMessageContaining("printable ASCII without spaces");
        assertThat(listeners.names()).isEmpty();
    }

    @Test
    void anAddressInUseIsAnIOExceptionNamingIt() throws Exception {
        try (ServerSocketChannel taken = ServerSocketChannel.open().bind(LOOPBACK_ANY)) {
            InetSocketAddress at = (InetSocketAddress) taken.getLocalAddress();
            assertThatThrownBy(() -> listeners.tcp("http", at))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot bind tcp listener at 127.0.0.1:" + at.getPort());
            assertThat(listeners.names()).isEmpty();
        }
    }

    @Test
    void aUnixListenerReplacesAStaleSocketFileAndDupsLikeTcp() throws Exception {
        Path path = dir.resolve("ctl.sock");
        try (ServerSocketChannel stale = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(path));
        }
        assertThat(path).exists();
        try (ServerSocketChannel a = listeners.unix("ctl", path)) {
            closeEarly(a);
            try (ServerSocketChannel b = listeners.unix("ctl", path);
                    SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(path));
                    SocketChannel accepted = b.accept()) {
                client.write(ByteBuffer.wrap(new byte[] {7}));
                assertThat(accepted.read(ByteBuffer.allocate(1))).isEqualTo(1);
            }
        }
        assertThat(listeners.info()).singleElement().satisfies(i -> {
            assertThat(i.kind()).isEqualTo(ListenerKind.UNIX);
            assertThat(i.address()).isEqualTo(path.toAbsolutePath().toString());
        });
    }

    @Test
    void aUdpListenerReceivesOnEveryDup() throws Exception {
        try (DatagramChannel a = listeners.udp("dns", LOOPBACK_ANY);
                DatagramChannel b = listeners.udp("dns", LOOPBACK_ANY);
                DatagramChannel client = DatagramChannel.open()) {
            assertThat(b.getLocalAddress()).isEqualTo(a.getLocalAddress());
            closeEarly(a);
            client.send(ByteBuffer.wrap("ping".getBytes(StandardCharsets.UTF_8)), b.getLocalAddress());
            ByteBuffer in = ByteBuffer.allocate(16);
            InetSocketAddress from = (InetSocketAddress) b.receive(in);
            assertThat(from).isNotNull();
            in.flip();
            assertThat(StandardCharsets.UTF_8.decode(in).toString()).isEqualTo("ping");
            b.send(ByteBuffer.wrap("pong".getBytes(StandardCharsets.UTF_8)), from);
            ByteBuffer back = ByteBuffer.allocate(16);
            client.receive(back);
            back.flip();
            assertThat(StandardCharsets.UTF_8.decode(back).toString()).isEqualTo("pong");
        }
    }

    @Test
    void aHandedOverSocketIsTakenBeforeBindingAndBeforeLaterSources() throws Exception {
        try (ServerSocketChannel previous = ServerSocketChannel.open().bind(LOOPBACK_ANY)) {
            ListenerSource later = new ListenerSource() {
                @Override
                public String label() {
                    return "later";
                }

                @Override
                public java.nio.channels.NetworkChannel take(String name, ListenerKind kind) {
                    throw new AssertionError("asked after the handed-over socket was found");
                }
            };
            HandedOverSockets handedOver = HandedOverSockets.instance();
            handedOver.offer("api", Fds.dup(Fds.fd(previous)));
            try (GovernorListeners withSources = new GovernorListeners(List.of(handedOver, later), SdNotify::disabled);
                    ServerSocketChannel api =
                            withSources.tcp("api", new InetSocketAddress(InetAddress.getLoopbackAddress(), 1))) {
                assertThat(api.getLocalAddress()).isEqualTo(previous.getLocalAddress());
                assertThat(handedOver.names()).doesNotContain("api");
                assertThat(withSources.info())
                        .singleElement()
                        .extracting(ListenerInfo::source)
                        .isEqualTo("handed-over");
                assertThat(echoOnce((InetSocketAddress) previous.getLocalAddress(), api, "inherited"))
                        .isEqualTo("inherited");
            }
        }
    }

    @Test
    void aHandedOverSocketOfAnotherKindIsAnError() throws Exception {
        try (DatagramChannel udp = DatagramChannel.open().bind(LOOPBACK_ANY)) {
            HandedOverSockets.instance().offer("wrong-kind", Fds.dup(Fds.fd(udp)));
            try (GovernorListeners withSources =
                    new GovernorListeners(List.of(HandedOverSockets.instance()), SdNotify::disabled)) {
                assertThatThrownBy(() -> withSources.tcp("wrong-kind", LOOPBACK_ANY))
                        .isInstanceOf(IOException.class)
                        .hasMessageContaining("handed-over socket \"wrong-kind\"")
                        .hasMessageContaining("not the tcp listener asked for");
            }
        }
    }

    @Test
    void aFreshSocketIsPushedToSystemdsFdStoreUnderItsName() throws Exception {
        String address = "@governor-listeners-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        try (NotifyReceiver systemd = NotifyReceiver.bind(address);
                GovernorListeners pushed = new GovernorListeners(List.of(), () -> SdNotify.to(systemd.address()));
                ServerSocketChannel http = pushed.tcp("http", LOOPBACK_ANY)) {
            NotifyReceiver.Message m = systemd.await(x -> x.has("FDSTORE", "1"), Duration.ofSeconds(30));
            assertThat(m.fields()).containsEntry("FDNAME", "http");
            assertThat(m.fds()).hasSize(1);
            try (ServerSocketChannel stored =
                    (ServerSocketChannel) ListenerKind.TCP.wrap(m.fds().getFirst())) {
                assertThat(stored.getLocalAddress()).isEqualTo(http.getLocalAddress());
            }
        }
    }

    @Test
    void aGovernorOwnsItsListenersUntilItStops() throws Exception {
        Governor gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        ServerSocketChannel ch = gov.listeners().tcp("http", LOOPBACK_ANY);
        InetSocketAddress at = (InetSocketAddress) ch.getLocalAddress();
        ch.close();
        gov.add("idle", ctx -> ctx.awaitStop());
        gov.start();
        gov.shutdown();
        assertThatThrownBy(() -> gov.listeners().tcp("http", LOOPBACK_ANY))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the governor has stopped");
        assertThatThrownBy(() -> SocketChannel.open(at).close()).isInstanceOf(IOException.class); // refused: closed
    }

    static String echoOnce(InetSocketAddress at, ServerSocketChannel server, String text) throws Exception {
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

    /** Closes one dup in the middle of a test; its try-with-resources still closes it again (a no-op) if the test fails first. */
    private static void closeEarly(java.nio.channels.Channel dup) throws java.io.IOException {
        dup.close();
    }
}
