package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.runtime.daemon.ControlSocketTest.Client;
import dev.governor.runtime.internal.os.ProcessCalls;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Regression tests of issue 12 on the control socket: items 2 (durations), 3 (accept errors) and 6 (idle connections). */
class Issue12ControlSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Governor gov;

    private Path start(ControlSocket socket) throws InterruptedException {
        gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        gov.add("a", ctx -> ctx.awaitStop());
        socket.addTo(gov);
        gov.start();
        assertThat(gov.awaitReady(WAIT)).isTrue();
        return socket.path();
    }

    @AfterEach
    void stop() {
        if (gov != null) {
            gov.shutdown();
        }
    }

    /** Issue 12.2: "shutdown 0" answered ok and did nothing. */
    @Test
    void shutdownZeroAnsweredOkAndDidNothing() throws Exception {
        Path sock = start(ControlSocket.at(dir.resolve("ctl.sock")));
        try (Client c = new Client(sock)) {
            assertThat(c.ask("shutdown 0")).startsWith("{\"ok\":false").contains("must be positive");
            assertThat(c.ask("shutdown PT0S")).startsWith("{\"ok\":false").contains("must be positive");
        }
        assertThat(gov.stopping()).isFalse();
        assertThat(gov.service("a").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
    }

    /** Issue 12.2: "shutdown PT99999999999999999S" answered ok, then 'Instant exceeds maximum' killed the shutdown thread; services stayed RUNNING. */
    @Test
    void hugeShutdownTimeoutAnsweredOkThenKilledTheShutdown() throws Exception {
        Path sock = start(ControlSocket.at(dir.resolve("ctl.sock")));
        try (Client c = new Client(sock)) {
            assertThat(c.ask("shutdown PT99999999999999999S")).startsWith("{\"ok\":true");
        }
        ShutdownReport report = CompletableFuture.supplyAsync(
                        gov::waitForShutdown, r -> Thread.ofVirtual().start(r))
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertThat(report.exitCode()).isZero();
        assertThat(report.unstopped()).isEmpty();
        assertThat(gov.service("a").orElseThrow().state()).isEqualTo(ServiceState.STOPPED);
    }

    /** Issue 12.6: 32 idle connections locked the control socket (no idle timeout): the 33rd client was refused for good. */
    @Test
    void idleConnectionsLockedTheControlSocket() throws Exception {
        Path sock = start(ControlSocket.at(dir.resolve("ctl.sock")).idleTimeout(Duration.ofMillis(500)));
        List<Client> idle = new ArrayList<>();
        try {
            for (int i = 0; i < ControlSocket.MAX_CONNECTIONS; i++) {
                idle.add(new Client(sock)); // connect and say nothing
            }
            await().atMost(WAIT).untilAsserted(() -> {
                try (Client c = new Client(sock)) {
                    assertThat(c.ask("status")).startsWith("{\"ok\":true");
                }
            });
            for (Client c : idle) {
                assertThat(c.readLineOrClosed())
                        .as("an idle connection is closed by the daemon")
                        .isNull();
            }
        } finally {
            for (Client c : idle) {
                c.close();
            }
        }
    }

    /** Issue 12.3: at the fd limit, an accept error ended the control service for good. */
    @Test
    void acceptErrorAtTheFdLimitEndedTheControlService() throws Exception {
        ControlSocket socket = ControlSocket.at(dir.resolve("ctl.sock"));
        Path sock = start(socket);
        try (Client warm = new Client(sock)) {
            assertThat(warm.ask("status")).startsWith("{\"ok\":true");
        }
        await().atMost(WAIT)
                .until(() -> socket.acceptErrors() == 0); // awaitility loaded before the descriptors run out
        long[] saved = ProcessCalls.getrlimit(ProcessCalls.RLIMIT_NOFILE); // {soft, hard}
        List<FileInputStream> filler = new ArrayList<>();
        Client waiting = null;
        try {
            ProcessCalls.setrlimit(
                    ProcessCalls.RLIMIT_NOFILE, maxFd() + 1, saved[1]); // throws, naming the errno, when it fails
            try {
                while (filler.size() < 100_000) {
                    filler.add(new FileInputStream("/dev/null")); // every free descriptor below the limit
                }
            } catch (IOException full) {
                // at the limit
            }
            filler.removeLast().close(); // room for the client's socket, none for the daemon's accept
            waiting = new Client(sock);
            await().atMost(WAIT).until(() -> socket.acceptErrors() > 1); // EMFILE, met and retried
        } finally {
            ProcessCalls.setrlimit(ProcessCalls.RLIMIT_NOFILE, saved[0], saved[1]);
            for (FileInputStream f : filler) {
                f.close();
            }
        }
        try (Client c = waiting) {
            assertThat(c.ask("status")).startsWith("{\"ok\":true");
        }
        assertThat(gov.service("control").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
        assertThat(gov.service("control").orElseThrow().restarts()).isZero();
    }

    private static long maxFd() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.mapToLong(p -> Long.parseLong(p.getFileName().toString()))
                    .max()
                    .orElseThrow();
        }
    }
}
