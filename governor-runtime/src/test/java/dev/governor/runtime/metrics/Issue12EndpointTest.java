package dev.governor.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.ServiceState;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Regression tests of issue 12, items 3 and 11: the HTTP endpoint under aborted, slow and foreign requests. */
class Issue12EndpointTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private Governor gov;

    @AfterEach
    void shutdown() {
        if (gov != null) {
            gov.shutdown();
        }
    }

    private GovernorEndpoint start() throws InterruptedException {
        gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        GovernorEndpoint endpoint =
                GovernorEndpoint.builder(gov).port(0).jvmMetrics(false).build();
        endpoint.addTo(gov, "http");
        gov.add("worker", ctx -> ctx.awaitStop());
        gov.start();
        assertThat(gov.awaitReady(PATIENCE)).isTrue();
        return endpoint;
    }

    static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /** A whole exchange on a raw socket: the status line and headers as text. */
    static String exchange(int port, String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(20_000);
            // one exchange, as a scraper makes it: ask the server to close once it answered
            s.getOutputStream()
                    .write(request.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n")
                            .getBytes(StandardCharsets.ISO_8859_1));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** Issue 12.3: each request whose client went away before the answer leaked a descriptor in the JDK HttpServer. */
    @Test
    void abortedRequestsLeakedAFileDescriptorEach() throws Exception {
        GovernorEndpoint endpoint = start();
        int port = endpoint.port();
        assertThat(exchange(port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
                .startsWith("HTTP/1.1 200");
        long before = openFds();
        int aborted = 400;
        for (int i = 0; i < aborted; i++) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
                OutputStream out = s.getOutputStream();
                switch (i % 4) {
                    case 0 ->
                        out.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                                .getBytes(StandardCharsets.ISO_8859_1)); // gone before the answer
                    case 1 ->
                        out.write(
                                "GET /status.json HTTP/1.1\r\nHo".getBytes(StandardCharsets.ISO_8859_1)); // half a head
                    case 2 -> s.setSoLinger(true, 0); // a reset, nothing sent
                    default -> {
                        out.write("GET /status.json HTTP/1.1\r\nHost: localhost\r\n\r\n"
                                .getBytes(StandardCharsets.ISO_8859_1));
                        s.setSoLinger(true, 0); // a reset mid-answer
                    }
                }
            }
        }
        await().atMost(PATIENCE)
                .untilAsserted(() -> assertThat(openFds())
                        .as("open fds after " + aborted + " aborted requests")
                        .isLessThanOrEqualTo(before + 2));
        assertThat(exchange(port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
                .startsWith("HTTP/1.1 200");
        assertThat(gov.service("http").orElseThrow().restarts()).isZero();
    }

    /** Issue 12.3: a slow-loris client (a header byte now and then) held its connection for minutes. */
    @Test
    void slowLorisConnectionWasHeldForMinutes() throws Exception {
        GovernorEndpoint endpoint = start();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", endpoint.port()), 10_000);
            s.setSoTimeout(1_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("GET /metrics HTTP/1.1\r\n".getBytes(StandardCharsets.ISO_8859_1));
            long started = System.nanoTime();
            boolean closedByServer = false;
            while (!closedByServer && System.nanoTime() - started < PATIENCE.toNanos()) {
                try {
                    out.write('X'); // one byte a second, never ending the head
                    out.flush();
                    closedByServer = in.read() < 0;
                } catch (java.net.SocketTimeoutException stillOpen) {
                    // the server still holds the connection: go on trickling
                } catch (IOException reset) {
                    closedByServer = true;
                }
            }
            Duration held = Duration.ofNanos(System.nanoTime() - started);
            assertThat(closedByServer)
                    .as("the server closed the trickling connection (held " + held + ")")
                    .isTrue();
            assertThat(held).isLessThanOrEqualTo(HttpListener.HEAD_TIMEOUT.plusSeconds(5));
        }
    }

    /** Issue 12.11: any Host header was served (DNS rebinding could read /status.json from a browser), without nosniff. */
    @Test
    void foreignHostHeaderWasServed() throws Exception {
        GovernorEndpoint endpoint = start();
        int port = endpoint.port();
        String foreign =
                exchange(port, "GET /status.json HTTP/1.1\r\nHost: rebind.attacker.example:" + port + "\r\n\r\n");
        assertThat(foreign).startsWith("HTTP/1.1 421").doesNotContain("\"services\"");
        for (String host : new String[] {"127.0.0.1:" + port, "localhost:" + port, "localhost", "[::1]:" + port}) {
            String ok = exchange(port, "GET /status.json HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            assertThat(ok)
                    .as("Host: " + host)
                    .startsWith("HTTP/1.1 200")
                    .containsIgnoringCase("X-Content-Type-Options: nosniff");
        }
        assertThat(gov.service("http").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
    }

    /** Issue 12.11: a name given to allowHost is served; the rest are still refused. */
    @Test
    void allowedHostNamesAreServed() throws Exception {
        gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        GovernorEndpoint endpoint = GovernorEndpoint.builder(gov)
                .port(0)
                .jvmMetrics(false)
                .allowHost("metrics.svc.local")
                .build();
        endpoint.addTo(gov, "http");
        gov.start();
        assertThat(gov.awaitReady(PATIENCE)).isTrue();
        assertThat(exchange(endpoint.port(), "GET /healthz HTTP/1.1\r\nHost: metrics.svc.local:80\r\n\r\n"))
                .startsWith("HTTP/1.1 200");
        assertThat(exchange(endpoint.port(), "GET /healthz HTTP/1.1\r\nHost: other.svc.local\r\n\r\n"))
                .startsWith("HTTP/1.1 421");
    }
}
