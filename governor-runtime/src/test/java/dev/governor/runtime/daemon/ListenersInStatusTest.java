package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.runtime.metrics.GovernorEndpoint;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sockets a governor owns are listed by the control socket's status, /status.json and /metrics. */
class ListenersInStatusTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private Governor gov;

    @AfterEach
    void stop() {
        if (gov != null) {
            gov.shutdown();
        }
    }

    @Test
    void everyStatusViewListsTheListenersWithAddressAndSource() throws Exception {
        gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        int port;
        try (var http = gov.listeners().tcp("http", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            port = ((InetSocketAddress) http.getLocalAddress()).getPort();
        }
        gov.listeners().unix("admin", dir.resolve("admin.sock")).close();
        Path sock = dir.resolve("ctl.sock");
        ControlSocket.at(sock).addTo(gov);
        GovernorEndpoint endpoint = GovernorEndpoint.builder(gov).port(0).build();
        endpoint.addTo(gov, "endpoint");
        gov.start();
        assertThat(gov.awaitReady(WAIT)).isTrue();

        String http =
                "{\"name\":\"http\",\"kind\":\"tcp\",\"address\":\"127.0.0.1:" + port + "\",\"source\":\"bound\"}";
        String admin = "{\"name\":\"admin\",\"kind\":\"unix\",\"address\":\""
                + dir.resolve("admin.sock").toAbsolutePath() + "\",\"source\":\"bound\"}";
        try (ControlSocketTest.Client c = new ControlSocketTest.Client(sock)) {
            assertThat(c.ask("status")).contains("\"listeners\":[" + http + "," + admin + "]");
        }
        String status = EndpointPages.get(endpoint, "/status.json");
        assertThat(status).contains("\"listeners\":[" + http + "," + admin + "]");
        gov.listeners()
                .udp("late", new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .close(); // after binding
        String metrics = EndpointPages.get(endpoint, "/metrics");
        assertThat(metrics)
                .contains("# HELP governor_listener_info ")
                .contains("governor_listener_info{address=\"127.0.0.1:" + port + "\",name=\"http\",source=\"bound\"} 1")
                .contains("governor_listener_info{address=\""
                        + dir.resolve("admin.sock").toAbsolutePath() + "\",name=\"admin\",source=\"bound\"} 1")
                .containsPattern(
                        "governor_listener_info\\{address=\"127.0.0.1:\\d+\",name=\"late\",source=\"bound\"} 1");
    }
}
