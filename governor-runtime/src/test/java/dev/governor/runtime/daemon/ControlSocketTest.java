package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.runtime.internal.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket on a live governor in this JVM; another uid and other processes are tested in samples. */
class ControlSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Governor gov;
    private final AtomicInteger reloads = new AtomicInteger();

    private Path startGovernor(boolean withReload) throws InterruptedException {
        gov = Governor.create();
        gov.add("a", ctx -> ctx.awaitStop());
        Supervisor db = Supervisor.create(Strategy.ONE_FOR_ONE);
        db.add("pool", ctx -> ctx.awaitStop());
        gov.add("db", db);
        if (withReload) {
            gov.onReload(g -> reloads.incrementAndGet());
        }
        Path sock = dir.resolve("ctl.sock");
        ControlSocket.at(sock).addTo(gov);
        gov.start();
        assertThat(gov.awaitReady(WAIT)).as("governor ready").isTrue();
        return sock;
    }

    @AfterEach
    void stop() {
        if (gov != null) {
            gov.shutdown();
        }
    }

    @Test
    void shouldListenWithMode0600OnceReadyAndRemoveTheFileWhenStopped() throws Exception {
        Path sock = startGovernor(false);
        assertThat(Files.getPosixFilePermissions(sock)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(gov.service("control").map(ServiceInfo::ready)).contains(true);
        gov.shutdown();
        assertThat(Files.exists(sock)).isFalse();
        try (var listing = Files.list(dir)) {
            assertThat(listing).as("no temporary socket left").isEmpty();
        }
    }

    @Test
    void shouldAnswerStatusWithTheWholeTree() throws Exception {
        Path sock = startGovernor(false);
        try (Client c = new Client(sock)) {
            String status = c.ask("status");
            assertThat(status)
                    .startsWith(
                            "{\"ok\":true,\"pid\":" + ProcessHandle.current().pid() + ",\"ready\":true,")
                    .contains("\"healthy\":true")
                    .contains(
                            "{\"name\":\"a\",\"depth\":0,\"state\":\"RUNNING\",\"ready\":true,\"restarts\":0,\"supervisor\":false,")
                    .contains(
                            "{\"name\":\"db\",\"depth\":0,\"state\":\"RUNNING\",\"ready\":true,\"restarts\":0,\"supervisor\":true,")
                    .contains("{\"name\":\"db/pool\",\"depth\":1,\"state\":\"RUNNING\"")
                    .contains("{\"name\":\"control\",\"depth\":0,\"state\":\"RUNNING\"");
            assertThat(c.ask("  STATUS  ")).as("case and blanks do not matter").startsWith("{\"ok\":true,\"pid\"");
        }
    }

    @Test
    void shouldStopStartAndRestartServicesByPath() throws Exception {
        Path sock = startGovernor(false);
        try (Client c = new Client(sock)) {
            assertThat(c.ask("stop a"))
                    .isEqualTo("{\"ok\":true,\"command\":\"stop\",\"service\":\"a\",\"state\":\"STOPPED\"}");
            assertThat(gov.service("a").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
            assertThat(c.ask("stop a"))
                    .as("stopping a stopped service is harmless")
                    .contains("\"ok\":true");
            assertThat(c.ask("start a"))
                    .isEqualTo("{\"ok\":true,\"command\":\"start\",\"service\":\"a\",\"state\":\"RUNNING\"}");
            assertThat(c.ask("start a"))
                    .isEqualTo(
                            "{\"ok\":false,\"error\":\"service \\\"a\\\" is RUNNING; start applies to a STOPPED or FAILED service\"}");
            int before = gov.service("db/pool").orElseThrow().restarts();
            assertThat(c.ask("restart db/pool"))
                    .isEqualTo(
                            "{\"ok\":true,\"command\":\"restart\",\"service\":\"db/pool\",\"state\":\"RUNNING\",\"parent\":\"db\"}");
            assertThat(gov.service("db/pool").orElseThrow().restarts()).isEqualTo(before + 1);
            await().atMost(WAIT).until(gov::isReady);
        }
    }

    @Test
    void shouldAnswerErrorsAndKeepTheConnectionAndTheTree() throws Exception {
        Path sock = startGovernor(false);
        try (Client c = new Client(sock)) {
            assertThat(c.ask("frobnicate now"))
                    .isEqualTo("{\"ok\":false,\"error\":\"unknown command \\\"frobnicate\\\"; try help\"}");
            assertThat(c.ask("restart nosuch"))
                    .isEqualTo("{\"ok\":false,\"error\":\"no service named \\\"nosuch\\\"; status lists the names\"}");
            assertThat(c.ask("stop"))
                    .isEqualTo("{\"ok\":false,\"error\":\"stop needs a service NAME, e.g. stop db/pool\"}");
            assertThat(c.ask("status please"))
                    .isEqualTo("{\"ok\":false,\"error\":\"status takes no argument, got \\\"please\\\"\"}");
            assertThat(c.ask("")).isEqualTo("{\"ok\":false,\"error\":\"empty command; try help\"}");
            assertThat(c.ask("reload"))
                    .as("no reload handler")
                    .isEqualTo(
                            "{\"ok\":false,\"error\":\"reload failed: reload() with no reload handler: set one with onReload(...)\"}");
            assertThat(c.ask("shutdown soon")).contains("\"ok\":false", "timeout \\\"soon\\\" is not a duration");
            assertThat(c.ask("stop control")).contains("\"ok\":false", "would stop this control socket");
            c.sendRaw(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, '\r', '\n'});
            assertThat(c.readLine()).startsWith("{\"ok\":false,\"error\":\"unknown command \\\"");
            assertThat(c.ask("status")).startsWith("{\"ok\":true");
        }
        assertThat(gov.services()).allMatch(s -> s.state() == ServiceState.RUNNING);
    }

    @Test
    void shouldRejectA1MiBLineAndServeTheNextOne() throws Exception {
        Path sock = startGovernor(false);
        try (Client c = new Client(sock)) {
            byte[] huge = new byte[1 << 20];
            java.util.Arrays.fill(huge, (byte) 'x');
            huge[huge.length - 1] = '\n';
            c.sendRaw(huge);
            assertThat(c.readLine())
                    .isEqualTo(
                            "{\"ok\":false,\"error\":\"line of 1048575 bytes is longer than the limit of 4096 bytes\"}");
            assertThat(c.ask("status")).startsWith("{\"ok\":true");
        }
        assertThat(gov.service("control").orElseThrow().restarts())
                .as("the socket never died")
                .isZero();
    }

    @Test
    void shouldRunTheReloadHandler() throws Exception {
        Path sock = startGovernor(true);
        try (Client c = new Client(sock)) {
            assertThat(c.ask("reload")).isEqualTo("{\"ok\":true,\"command\":\"reload\"}");
            assertThat(reloads.get()).isEqualTo(1);
        }
    }

    @Test
    void shouldListItsCommands() throws Exception {
        Path sock = startGovernor(false);
        try (Client c = new Client(sock)) {
            assertThat(c.ask("help"))
                    .startsWith("{\"ok\":true,\"commands\":[\"status ")
                    .contains("restart NAME", "stop NAME", "start NAME", "reload ", "shutdown [TIMEOUT]", "help ");
        }
    }

    @Test
    void shouldShutDownTheGovernorWithTheGivenTimeout() throws Exception {
        Path sock = startGovernor(false);
        try (Client c = new Client(sock)) {
            assertThat(c.ask("shutdown 7s")).isEqualTo("{\"ok\":true,\"command\":\"shutdown\",\"timeout\":\"PT7S\"}");
        }
        var report = gov.waitForShutdown();
        assertThat(report.exitCode()).isZero();
        assertThat(report.stopTimes()).containsKeys("a", "db", "control");
    }

    @Test
    void shouldServeSeveralClientsAtOnce() throws Exception {
        Path sock = startGovernor(false);
        try (Client one = new Client(sock);
                Client two = new Client(sock)) {
            assertThat(two.ask("help")).contains("\"ok\":true");
            assertThat(one.ask("status")).contains("\"ok\":true");
        }
    }

    @Test
    void shouldTellAClientOverTheConnectionLimitWhyAndKeepServingTheOthers() throws Exception {
        Path sock = startGovernor(false);
        List<Client> clients = new ArrayList<>();
        try {
            for (int i = 0; i < ControlSocket.MAX_CONNECTIONS; i++) {
                Client c = new Client(sock);
                clients.add(c);
                assertThat(c.ask("help")).contains("\"ok\":true");
            }
            // regression: the refusal was closed with the client's line unread, which reset the
            // connection, and the client saw ECONNRESET instead of the reason
            try (Client extra = new Client(sock)) {
                assertThat(extra.ask("status"))
                        .isEqualTo("{\"ok\":false,\"error\":\"too many connections (more than 32); try again later\"}");
                assertThatThrownBy(extra::readLine).hasMessageStartingWith("closed by the daemon");
            }
            assertThat(clients.getFirst().ask("status")).startsWith("{\"ok\":true");
        } finally {
            for (Client c : clients) {
                c.close();
            }
        }
    }

    @Test
    void shouldReplaceAStaleSocketFileButNotALiveOne() throws Exception {
        Path sock = dir.resolve("ctl.sock");
        ServerSocketChannel old = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        old.bind(UnixDomainSocketAddress.of(sock));
        old.close(); // a killed daemon's leftover: the file stays, nobody listens
        assertThat(Files.exists(sock)).isTrue();
        Path started = startGovernor(false);
        try (Client c = new Client(started)) {
            assertThat(c.ask("help")).contains("\"ok\":true");
        }

        Governor second = Governor.create();
        try {
            second.add("x", ctx -> ctx.awaitStop());
            ControlSocket.at(sock).addTo(second).noRestart();
            second.start();
            await().atMost(WAIT)
                    .until(() -> second.service("control").orElseThrow().state() == ServiceState.FAILED);
            assertThat(second.service("control")
                            .orElseThrow()
                            .lastFailure()
                            .orElseThrow()
                            .getMessage())
                    .isEqualTo("control socket " + sock + " answers: another process is using it");
        } finally {
            second.shutdown();
        }
        try (Client c = new Client(sock)) {
            assertThat(c.ask("help")).as("the first socket still serves").contains("\"ok\":true");
        }
    }

    @Test
    void shouldRefuseAPathThatIsNotASocketAndBadOptions() throws Exception {
        Path file = Files.writeString(dir.resolve("plain"), "data");
        Governor g = Governor.create();
        try {
            ControlSocket.at(file).addTo(g).noRestart();
            g.start();
            await().atMost(WAIT).until(() -> g.service("control").orElseThrow().state() == ServiceState.FAILED);
            assertThat(g.service("control").orElseThrow().lastFailure().orElseThrow())
                    .hasMessage("control socket path " + file + " exists and is not a socket; refusing to replace it");
            assertThat(Files.readString(file)).isEqualTo("data");
        } finally {
            g.shutdown();
        }
        assertThatThrownBy(() -> ControlSocket.at(dir.resolve("x".repeat(120))))
                .hasMessageContaining("unix sockets allow at most 107");
        assertThatThrownBy(() -> ControlSocket.at(dir.resolve("s")).maxLineBytes(10))
                .hasMessage("maxLineBytes must be within 64 and 1048576, was 10");
        assertThatThrownBy(() -> ControlSocket.at(dir.resolve("s")).allowUid(-1))
                .hasMessage("uid must be >= 0, was -1");
    }

    @Test
    void shouldParseDurations() {
        assertThat(ControlCommands.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(ControlCommands.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(ControlCommands.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(ControlCommands.parseDuration("12")).isEqualTo(Duration.ofSeconds(12));
        assertThat(ControlCommands.parseDuration("PT1M")).isEqualTo(Duration.ofMinutes(1));
        assertThat(ControlCommands.parseDuration("-PT1M")).isNull();
        assertThat(ControlCommands.parseDuration("soon")).isNull();
    }

    @Test
    void shouldEscapeJson() {
        assertThat(Json.write(java.util.Map.of("k", "a\"b\\c\n\u0001"))).isEqualTo("{\"k\":\"a\\\"b\\\\c\\n\\u0001\"}");
        assertThat(Json.write(java.util.List.of(1, 2L, true))).isEqualTo("[1,2,true]");
    }

    /** A line client on the JDK's unix sockets. */
    static final class Client implements AutoCloseable {
        private final SocketChannel ch;
        private final ByteBuffer in = ByteBuffer.allocate(65536);

        Client(Path socket) throws IOException {
            ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            in.flip();
        }

        String ask(String line) throws IOException {
            sendRaw((line + "\n").getBytes(StandardCharsets.UTF_8));
            return readLine();
        }

        void sendRaw(byte[] bytes) throws IOException {
            ByteBuffer out = ByteBuffer.wrap(bytes);
            while (out.hasRemaining()) {
                ch.write(out);
            }
        }

        /** The next line, or null once the daemon closed the connection. */
        String readLineOrClosed() {
            try {
                return readLine();
            } catch (IOException closed) {
                return null;
            }
        }

        String readLine() throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            while (true) {
                while (in.hasRemaining()) {
                    byte b = in.get();
                    if (b == '\n') {
                        return line.toString(StandardCharsets.UTF_8);
                    }
                    line.write(b);
                }
                in.clear();
                int n = ch.read(in);
                in.flip();
                if (n < 0) {
                    throw new IOException("closed by the daemon after: " + line.toString(StandardCharsets.UTF_8));
                }
            }
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
