package dev.governor.runtime.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.runtime.metrics.GovernorEndpoint;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15: the control socket's {@code status} and {@code /status.json} described the same tree
 * with different field names ({@code summary}/{@code status}, {@code services}/{@code nodes}, uptime
 * on one side only). Now both send the one status document (internal.StatusJson).
 */
class StatusDocumentTest {
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
    void shouldSendTheSameDocumentOnTheControlSocketAndAtStatusJson() throws Exception {
        gov = Governor.create(GovernorOptions.builder().systemd(false).build());
        Supervisor db = Supervisor.create(Strategy.ONE_FOR_ONE);
        db.add("pool", ctx -> ctx.awaitStop());
        gov.add("db", db);
        gov.add("broken", ctx -> {
                    throw new IllegalStateException("disk <full>");
                })
                .noRestart();
        Path sock = dir.resolve("ctl.sock");
        ControlSocket.at(sock).addTo(gov);
        GovernorEndpoint endpoint = GovernorEndpoint.builder(gov).port(0).build();
        endpoint.addTo(gov, "endpoint");
        gov.start();
        await().atMost(WAIT)
                .until(() -> gov.service("broken")
                                .map(i -> i.state() == ServiceState.FAILED)
                                .orElse(false)
                        && gov.service("endpoint").map(i -> i.ready()).orElse(false)
                        && gov.service("control").map(i -> i.ready()).orElse(false));

        String control;
        try (ControlSocketTest.Client c = new ControlSocketTest.Client(sock)) {
            control = c.ask("status");
        }
        String page = EndpointPages.get(endpoint, "/status.json");

        assertThat(control)
                .startsWith("{\"ok\":true,\"pid\":" + ProcessHandle.current().pid() + ",\"ready\":")
                .contains(",\"summary\":\"", ",\"total\":5,", ",\"truncated\":0}")
                .contains(
                        "{\"name\":\"db/pool\",\"depth\":1,\"state\":\"RUNNING\",\"ready\":true,\"restarts\":0,\"supervisor\":false,\"uptimeSeconds\":")
                .contains(
                        "{\"name\":\"broken\",\"depth\":0,\"state\":\"FAILED\",\"ready\":false,\"restarts\":0,\"supervisor\":false,"
                                + "\"uptimeSeconds\":0,\"startedAt\":\"")
                .contains("\"lastFailure\":\"java.lang.IllegalStateException: disk \\u003cfull\\u003e\"}");
        // the same document, field for field; only the moment of the read (and the uptimes measured to it) differ
        assertThat(comparable(control)).isEqualTo(comparable("{\"ok\":true," + page.substring(1)));
    }

    private static String comparable(String document) {
        return document.replaceAll("\"at\":\"[^\"]*\"", "\"at\":…")
                .replaceAll("\"uptimeSeconds\":\\d+", "\"uptimeSeconds\":…");
    }
}
