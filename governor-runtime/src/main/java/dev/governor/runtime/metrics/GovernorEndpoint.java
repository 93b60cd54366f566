package dev.governor.runtime.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.governor.Governor;
import dev.governor.Service;
import dev.governor.ServiceConfig;
import dev.governor.ServiceCtx;
import dev.governor.Supervisor;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.GovernorRuntime;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of a governor, itself a governed {@link Service}: a JDK {@link HttpServer} whose
 * requests each run on a virtual thread, on loopback by default.
 *
 * <pre>{@code
 * GovernorEndpoint.builder(gov).port(9464).aggregateChildrenOf("workers").build().addTo(gov, "http-metrics");
 * }</pre>
 *
 * <table>
 *   <caption>Paths</caption>
 *   <tr><td>{@code /metrics}</td><td>Prometheus text format 0.0.4, or OpenMetrics 1.0 when the
 *       {@code Accept} header asks for it (Prometheus does); gzip when accepted. Governor meters
 *       ({@link GovernorMetrics}) and the JVM's: memory, GC, threads, virtual threads, classes,
 *       CPU, uptime, file descriptors.</td></tr>
 *   <tr><td>{@code /healthz}</td><td>200 while the tree is healthy; 503 once a node is FAILED or an
 *       escalation is under way (liveness probe).</td></tr>
 *   <tr><td>{@code /readyz}</td><td>200 only while the governor is ready and not shutting down;
 *       503 from the first moment of shutdown, through the drain delay (readiness probe).</td></tr>
 *   <tr><td>{@code /status}</td><td>An HTML page of the live tree, refreshed in place every second.</td></tr>
 *   <tr><td>{@code /status.json}</td><td>The tree behind that page.</td></tr>
 * </table>
 *
 * <p>{@link Builder#build()} binds the port at once, so a port in use fails in {@code main}, with
 * the address in the message, not later in a restart loop. The service is ready once it serves;
 * add it with {@link #addTo} (which sets {@code readyOnStart(false)}) first, so that it stops last
 * and the probes answer throughout the shutdown.
 */
public final class GovernorEndpoint implements Service {
    private static final Logger LOG = LoggerFactory.getLogger(GovernorEndpoint.class);
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS_TEXT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final Governor governor;
    private final GovernorHooks hooks;
    private final GovernorMetrics metrics;
    private final PrometheusMeterRegistry registry;
    private final InetSocketAddress address;
    private final String title;
    private HttpServer bound; // bound, not yet serving; under this
    private volatile int port;

    private GovernorEndpoint(Builder b, GovernorMetrics metrics, PrometheusMeterRegistry registry) {
        this.governor = b.governor;
        this.hooks = b.hooks;
        this.metrics = metrics;
        this.registry = registry;
        this.title = b.title;
        this.bound = bind(new InetSocketAddress(b.host, b.port));
        this.port = bound.getAddress().getPort();
        this.address = new InetSocketAddress(b.host, port);
    }

    public static Builder builder(Governor governor) {
        Objects.requireNonNull(governor, "governor");
        return new Builder(governor, GovernorRuntime.hooks(governor));
    }

    /** For tests: hooks given rather than looked up. */
    static Builder builder(Governor governor, GovernorHooks hooks) {
        return new Builder(Objects.requireNonNull(governor, "governor"), Objects.requireNonNull(hooks, "hooks"));
    }

    /** Adds this endpoint to {@code parent} as {@code name}, ready once it serves. */
    public ServiceConfig addTo(Supervisor parent, String name) {
        return parent.add(name, this).readyOnStart(false);
    }

    /** The port it listens on (the one picked when built with port 0). */
    public int port() {
        return port;
    }

    /** Base URI, e.g. {@code http://127.0.0.1:9464/}. */
    public URI uri() {
        String host = address.getAddress().getHostAddress();
        return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/");
    }

    /** The registry served at {@code /metrics}: add meters of your own to it. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The governor's meters in {@link #registry()}. */
    public GovernorMetrics metrics() {
        return metrics;
    }

    @Override
    public void run(ServiceCtx ctx) throws Exception {
        HttpServer server;
        synchronized (this) {
            server = bound != null ? bound : bind(address); // a restart binds the same port again
            bound = null;
        }
        ExecutorService requests = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name(ctx.name() + "-http-", 0).factory());
        try {
            server.setExecutor(requests);
            server.createContext("/metrics", get(this::metrics));
            server.createContext("/healthz", get(this::healthz));
            server.createContext("/readyz", get(this::readyz));
            server.createContext("/status.json", get(this::statusJson));
            server.createContext("/status", get(this::statusPage));
            server.createContext("/", get(this::index));
            server.start();
            ctx.log().info("serving /metrics, /healthz, /readyz and /status at {}", uri());
            ctx.markReady();
            ctx.awaitStop();
        } finally {
            server.stop(0);
            requests.close();
        }
    }

    private static HttpServer bind(InetSocketAddress address) {
        try {
            return HttpServer.create(address, 0);
        } catch (BindException e) {
            throw new IllegalStateException("cannot listen on " + describe(address) + ": " + e.getMessage()
                    + " (port " + address.getPort() + " is in use or not allowed); choose another port, or 0 for any free one", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + describe(address) + ": " + e.getMessage(), e);
        }
    }

    private static String describe(InetSocketAddress a) {
        return (a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress()) + ":" + a.getPort();
    }

    // ---- handlers -------------------------------------------------------------------------------

    private interface Handler {
        void handle(HttpExchange exchange) throws IOException;
    }

    private HttpHandler get(Handler handler) {
        return exchange -> {
            try (exchange) {
                String method = exchange.getRequestMethod();
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    send(exchange, 405, "text/plain; charset=utf-8", bytes("method " + method + " not allowed; use GET\n"));
                    return;
                }
                handler.handle(exchange);
            } catch (IOException e) {
                LOG.debug("client went away during {}", exchange.getRequestURI(), e);
            } catch (RuntimeException e) {
                LOG.warn("{} failed", exchange.getRequestURI(), e);
            }
        };
    }

    private void metrics(HttpExchange exchange) throws IOException {
        String accept = exchange.getRequestHeaders().getFirst("Accept");
        String contentType = accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
        ByteArrayOutputStream body = new ByteArrayOutputStream(64 * 1024);
        registry.scrape(body, contentType);
        send(exchange, 200, contentType, body.toByteArray());
    }

    private void healthz(HttpExchange exchange) throws IOException {
        boolean healthy = hooks.healthy();
        send(exchange, healthy ? 200 : 503, "text/plain; charset=utf-8",
                bytes((healthy ? "healthy: " : "unhealthy: ") + hooks.statusLine() + "\n"));
    }

    private void readyz(HttpExchange exchange) throws IOException {
        boolean stopping = governor.stopping();
        boolean ready = !stopping && governor.isReady();
        String why = stopping ? "shutting down" : ready ? "ready" : "not ready";
        send(exchange, ready ? 200 : 503, "text/plain; charset=utf-8", bytes(why + ": " + hooks.statusLine() + "\n"));
    }

    private void statusJson(HttpExchange exchange) throws IOException {
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        send(exchange, 200, "application/json; charset=utf-8", bytes(StatusPage.json(governor, hooks, metrics.refresh())));
    }

    private void statusPage(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestURI().getPath().equals("/status")) {
            notFound(exchange);
            return;
        }
        send(exchange, 200, "text/html; charset=utf-8", bytes(StatusPage.html(title)));
    }

    private void index(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestURI().getPath().equals("/")) {
            notFound(exchange);
            return;
        }
        exchange.getResponseHeaders().set("Location", "/status");
        send(exchange, 302, "text/plain; charset=utf-8", bytes("see /status, /metrics, /healthz, /readyz\n"));
    }

    private static void notFound(HttpExchange exchange) throws IOException {
        send(exchange, 404, "text/plain; charset=utf-8",
                bytes("no " + exchange.getRequestURI().getPath() + " here; try /status, /metrics, /healthz, /readyz\n"));
    }

    private static void send(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        String encoding = exchange.getRequestHeaders().getFirst("Accept-Encoding");
        if (body.length > 1024 && encoding != null && encoding.contains("gzip")) {
            ByteArrayOutputStream zipped = new ByteArrayOutputStream(body.length / 4);
            try (GZIPOutputStream gz = new GZIPOutputStream(zipped)) {
                gz.write(body);
            }
            body = zipped.toByteArray();
            exchange.getResponseHeaders().set("Content-Encoding", "gzip");
        }
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "GovernorEndpoint[" + uri() + ", " + metrics + "]";
    }

    /** Options of {@link GovernorEndpoint}. */
    public static final class Builder {
        private final Governor governor;
        private final GovernorHooks hooks;
        private InetAddress host = InetAddress.getLoopbackAddress();
        private int port = 9464;
        private PrometheusMeterRegistry registry;
        private GovernorMetrics metrics;
        private final List<String> pools = new ArrayList<>();
        private boolean jvmMetrics = true;
        private String title = "Governor";

        private Builder(Governor governor, GovernorHooks hooks) {
            this.governor = governor;
            this.hooks = hooks;
        }

        /** Address to listen on; default loopback. {@code "0.0.0.0"} for every interface (in a pod, say). */
        public Builder host(String host) {
            Objects.requireNonNull(host, "host");
            try {
                this.host = InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("host \"" + host + "\" is not an address or a known name", e);
            }
            return this;
        }

        /** Default 9464 (not 9090, the Prometheus server's own); 0 picks a free port (see {@link GovernorEndpoint#port()}). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be within [0, 65535], was " + port);
            }
            this.port = port;
            return this;
        }

        /** The registry to serve; default a new {@link PrometheusMeterRegistry}. */
        public Builder registry(PrometheusMeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /** The governor's meters, when built by hand; default {@link GovernorMetrics} with the pools given here. */
        public Builder metrics(GovernorMetrics metrics) {
            this.metrics = Objects.requireNonNull(metrics, "metrics");
            return this;
        }

        /** Same as {@link GovernorMetrics.Builder#aggregateChildrenOf}; also folds the pool into one row of {@code /status}. */
        public Builder aggregateChildrenOf(String supervisorPath) {
            pools.add(supervisorPath);
            return this;
        }

        /** Default true: JVM meters (memory, GC, threads, virtual threads, classes, CPU, uptime, file descriptors). */
        public Builder jvmMetrics(boolean on) {
            this.jvmMetrics = on;
            return this;
        }

        /** Heading of the status page; default "Governor". */
        public Builder title(String title) {
            this.title = Objects.requireNonNull(title, "title");
            return this;
        }

        /**
         * Binds the port and the meters.
         *
         * @throws IllegalStateException if the port is in use, naming the address
         */
        public GovernorEndpoint build() {
            PrometheusMeterRegistry r = registry != null ? registry : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            GovernorMetrics m = metrics;
            if (m == null) {
                GovernorMetrics.Builder mb = GovernorMetrics.builder(governor, hooks);
                pools.forEach(mb::aggregateChildrenOf);
                m = mb.build();
            } else if (!pools.isEmpty()) {
                throw new IllegalStateException("pools " + pools + " set on the endpoint and metrics given: set the pools on the GovernorMetrics");
            }
            GovernorEndpoint endpoint = new GovernorEndpoint(this, m, r); // binds first: a busy port fails before any meter is made
            if (jvmMetrics) {
                JvmMeters.bindTo(r);
            }
            m.bindTo(r);
            return endpoint;
        }
    }
}
