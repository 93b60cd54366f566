package dev.governor.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorOptions;
import dev.governor.ServiceState;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GovernorEndpointTest {
    private static final Duration PATIENCE = Duration.ofSeconds(30);
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private Governor gov;

    @AfterEach
    void shutdown() {
        if (gov != null) {
            gov.shutdown();
        }
    }

    private GovernorEndpoint startWithEndpoint(Governor g) throws InterruptedException {
        gov = g;
        GovernorEndpoint endpoint = GovernorEndpoint.builder(gov).port(0).build();
        endpoint.addTo(gov, "http");
        gov.add("worker", ctx -> ctx.awaitStop());
        gov.start();
        assertThat(gov.awaitReady(PATIENCE)).as("governor ready").isTrue();
        return endpoint;
    }

    private HttpResponse<String> get(GovernorEndpoint endpoint, String path, String... headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(endpoint.uri().resolve(path)).timeout(Duration.ofSeconds(20));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldServePrometheusTextWithGovernorAndJvmMeters() throws Exception {
        GovernorEndpoint endpoint = startWithEndpoint(Governor.create());

        HttpResponse<String> r = get(endpoint, "/metrics");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue(GovernorEndpoint.PROMETHEUS_TEXT);
        assertThat(r.body())
                .contains(
                        "governor_service_up{service=\"worker\"} 1",
                        "governor_service_up{service=\"http\"} 1",
                        "governor_services{state=\"running\"} 2",
                        "# HELP governor_service_up ",
                        "jvm_memory_used_bytes{",
                        "jvm_gc_",
                        "jvm_threads_live_threads ",
                        "jvm_threads_virtual_mounted_threads ",
                        "process_cpu_usage ",
                        "process_uptime_seconds ");
    }

    /**
     * The meters are made off the path to readiness (MeterBinding): a scrape finds them all the same,
     * with what happened before they were made counted: a worker's failures before it settled, and
     * one scrape while nothing has started yet waits for the meters rather than answering without them.
     */
    @Test
    void metersMadeAfterTheStartStillCountWhatHappenedBefore() throws Exception {
        gov = Governor.create();
        GovernorEndpoint endpoint = GovernorEndpoint.builder(gov).port(0).build();
        endpoint.addTo(gov, "http");
        java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
        gov.add("settles", ctx -> {
                    if (runs.incrementAndGet() <= 2) {
                        throw new IllegalStateException("not yet");
                    }
                    ctx.awaitStop();
                })
                .restartPolicy(dev.governor.RestartPolicy.onFailure(Duration.ofMillis(10)));
        gov.start();
        assertThat(gov.awaitReady(PATIENCE)).isTrue();

        await().atMost(PATIENCE)
                .untilAsserted(() -> assertThat(get(endpoint, "/metrics").body())
                        .contains(
                                "governor_service_failures_total{exception=\"java.lang.IllegalStateException\",service=\"settles\"} 2.0",
                                "governor_service_restarts_total{service=\"settles\"} 2.0",
                                "jvm_memory_used_bytes{"));
        assertThat(endpoint.registry()
                        .find("governor.service.up")
                        .tag("service", "settles")
                        .gauge())
                .isNotNull();
    }

    @Test
    void aScrapeBeforeTheGovernorStartsWaitsForTheMeters() throws Exception {
        gov = Governor.create();
        GovernorEndpoint endpoint = GovernorEndpoint.builder(gov).port(0).build();
        endpoint.addTo(gov, "http");
        // the endpoint's own service is not running: serve it by hand, as run() would, on a thread of ours
        Thread server = Thread.ofVirtual().start(() -> {
            try {
                endpoint.run(gov.globalContext());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            HttpResponse<String> r = get(endpoint, "/metrics");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("governor_services{state=\"new\"} 1", "jvm_threads_live_threads ");
        } finally {
            endpoint.stop();
            server.join(PATIENCE.toMillis());
        }
        assertThat(server.isAlive()).isFalse();
    }

    @Test
    void shouldServeOpenMetricsWhenTheScraperAsksForIt() throws Exception {
        GovernorEndpoint endpoint = startWithEndpoint(Governor.create());

        HttpResponse<String> r = get(
                endpoint,
                "/metrics",
                "Accept",
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue(GovernorEndpoint.OPENMETRICS_TEXT);
        assertThat(r.body())
                .contains("governor_service_up{service=\"worker\"} 1")
                .endsWith("# EOF\n");
    }

    @Test
    void shouldAnswerTheProbes() throws Exception {
        GovernorEndpoint endpoint = startWithEndpoint(Governor.create());

        assertThat(get(endpoint, "/healthz").statusCode()).isEqualTo(200);
        HttpResponse<String> ready = get(endpoint, "/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).startsWith("ready: 2 running");

        gov.add("broken", ctx -> {
                    throw new IllegalStateException("broken for good");
                })
                .noRestart()
                .start();

        await().atMost(PATIENCE).untilAsserted(() -> {
            HttpResponse<String> health = get(endpoint, "/healthz");
            assertThat(health.statusCode()).isEqualTo(503);
            assertThat(health.body()).startsWith("unhealthy: ").contains("1 failed");
        });
    }

    @Test
    void readyzShouldTurn503BeforeTheFirstServiceStopsDuringTheDrainDelay() throws Exception {
        List<GovernorEvent> events = new CopyOnWriteArrayList<>();
        GovernorEndpoint endpoint = startWithEndpoint(Governor.create(GovernorOptions.builder()
                        .drainDelay(Duration.ofSeconds(5))
                        .build())
                .onEvent(events::add));
        assertThat(get(endpoint, "/readyz").statusCode()).isEqualTo(200);

        gov.requestShutdown("test of the drain");
        HttpResponse<String> draining = get(endpoint, "/readyz");
        Instant seenDraining = gov.options().clock().instant();

        assertThat(draining.statusCode()).isEqualTo(503);
        assertThat(draining.body()).startsWith("shutting down");
        assertThat(events).noneMatch(e -> e instanceof GovernorEvent.Stopped);
        assertThat(gov.service("worker").orElseThrow().state()).isEqualTo(ServiceState.RUNNING);
        assertThat(get(endpoint, "/healthz").statusCode())
                .as("still alive while draining")
                .isEqualTo(200);

        gov.waitForShutdown();
        assertThat(events)
                .filteredOn(e -> e instanceof GovernorEvent.Stopped)
                .isNotEmpty()
                .allSatisfy(e -> assertThat(e.at()).isAfter(seenDraining));
    }

    @Test
    void shouldServeTheTreeAsJsonAndThePage() throws Exception {
        GovernorEndpoint endpoint = startWithEndpoint(Governor.create());

        HttpResponse<String> json = get(endpoint, "/status.json");
        assertThat(json.statusCode()).isEqualTo(200);
        assertThat(json.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
        assertThat(json.body())
                .startsWith("{\"pid\":" + ProcessHandle.current().pid()
                        + ",\"ready\":true,\"stopping\":false,\"healthy\":true,")
                .contains("{\"name\":\"http\",\"depth\":0,\"state\":\"RUNNING\",\"ready\":true,\"restarts\":0")
                .contains("{\"name\":\"worker\",");

        HttpResponse<String> page = get(endpoint, "/status");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(page.body()).contains("<title>Governor</title>", "fetch(\"status.json\"");
    }

    @Test
    void shouldFoldAnAggregatedPoolIntoOneRowOfTheStatus() throws Exception {
        gov = Governor.create();
        dev.governor.Supervisor pool = dev.governor.Supervisor.create(dev.governor.Strategy.ONE_FOR_ONE)
                .parallelStop();
        for (int i = 0; i < 300; i++) {
            pool.add("w" + i, ctx -> ctx.awaitStop());
        }
        GovernorEndpoint endpoint = GovernorEndpoint.builder(gov)
                .port(0)
                .aggregateChildrenOf("pool")
                .build();
        endpoint.addTo(gov, "http");
        gov.add("pool", pool);
        gov.start();
        assertThat(gov.awaitReady(PATIENCE)).isTrue();

        String json = get(endpoint, "/status.json").body();

        assertThat(json)
                .contains("\"total\":302")
                .contains("{\"name\":\"pool\",\"depth\":0,\"state\":\"RUNNING\"")
                .contains("\"pool\":{\"RUNNING\":300}")
                .doesNotContain("\"name\":\"pool/w");
        assertThat(get(endpoint, "/metrics").body())
                .contains("governor_supervisor_children{state=\"running\",supervisor=\"pool\"} 300")
                .doesNotContain("service=\"pool/w");
    }

    @Test
    void shouldRefuseOtherMethodsAndUnknownPaths() throws Exception {
        GovernorEndpoint endpoint = startWithEndpoint(Governor.create());

        HttpResponse<String> post = http.send(
                HttpRequest.newBuilder(endpoint.uri().resolve("/metrics"))
                        .POST(HttpRequest.BodyPublishers.ofString("x"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
        assertThat(get(endpoint, "/nope").statusCode()).isEqualTo(404);
        assertThat(get(endpoint, "/statusx").statusCode()).isEqualTo(404);
    }

    @Test
    void aPortInUseShouldFailAtBuildNamingTheAddress() throws Exception {
        gov = Governor.create();
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> GovernorEndpoint.builder(gov).port(port).build())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("127.0.0.1:" + port)
                    .hasMessageContaining("in use");
        }
        assertThatThrownBy(() -> GovernorEndpoint.builder(gov).port(70000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("port must be within [0, 65535], was 70000");
    }

    /** Regression: micrometer-java21's JFR stream ran on a non-daemon thread and kept the JVM alive after shutdown. */
    @Test
    void shouldLeaveNoThreadThatKeepsTheJvmAliveOnceStopped() throws Exception {
        java.util.Set<Thread> before = nonDaemonThreads();
        GovernorEndpoint endpoint = startWithEndpoint(Governor.create());
        assertThat(get(endpoint, "/metrics").statusCode()).isEqualTo(200);
        assertThat(get(endpoint, "/status").statusCode()).isEqualTo(200);

        gov.shutdown();

        await().atMost(PATIENCE)
                .pollInSameThread()
                .untilAsserted(() -> assertThat(nonDaemonThreads()).isSubsetOf(before));
    }

    private static java.util.Set<Thread> nonDaemonThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !t.isDaemon() && t.isAlive())
                .collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void shouldReleaseThePortWhenTheGovernorStops() throws Exception {
        GovernorEndpoint endpoint = startWithEndpoint(Governor.create());
        int port = endpoint.port();

        gov.shutdown();

        try (ServerSocket again = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
            assertThat(again.getLocalPort()).isEqualTo(port);
        }
        assertThatThrownBy(() -> http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString()))
                .isInstanceOf(IOException.class);
    }
}
