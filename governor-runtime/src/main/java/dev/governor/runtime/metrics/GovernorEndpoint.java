package dev.governor.runtime.metrics;

import dev.governor.Governor;
import dev.governor.Service;
import dev.governor.ServiceConfig;
import dev.governor.ServiceCtx;
import dev.governor.Supervisor;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.GovernorRuntime;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of a governor, itself a governed {@link Service}: a small HTTP/1.1 server whose
 * requests each run on a virtual thread, on loopback by default, with every resource bounded
 * (request head size and time, whole-exchange time, connections) so that clients that go away,
 * trickle or never read cannot cost it a descriptor or a thread for long.
 *
 * <p>Only requests whose {@code Host} header names this endpoint's address or a loopback name
 * ({@code localhost}, {@code 127.0.0.1}, {@code [::1]}), an IP address, or a name given to
 * {@link Builder#allowHost} are served (421 otherwise): a web page cannot read {@code /status.json}
 * through DNS rebinding. Every answer carries {@code X-Content-Type-Options: nosniff}.
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
 *   <tr><td>{@code /healthz}</td><td>200 while the tree is healthy; 503 once a node is FAILED, an
 *       escalation is under way, or a supervisor loop has been stuck on one message for over 30 s
 *       ({@link dev.governor.runtime.GovernorHooks#healthy()}) (liveness probe).</td></tr>
 *   <tr><td>{@code /readyz}</td><td>200 only while the governor is ready and not shutting down;
 *       503 from the first moment of shutdown, through the drain delay (readiness probe).</td></tr>
 *   <tr><td>{@code /status}</td><td>An HTML page of the live tree, refreshed in place every second.</td></tr>
 *   <tr><td>{@code /status.json}</td><td>The tree behind that page.</td></tr>
 * </table>
 *
 * <p>{@link Builder#build()} binds the port at once, so a port in use fails in {@code main}, with
 * the address in the message, not later in a restart loop. The meters are made on a background
 * thread once the governor is ready (the registry and the JVM's meters load ~1,000 classes on a
 * cold JVM, which would otherwise delay the start), counting the governor's events from
 * {@code build()} on. The service is ready once it accepts requests: a {@code /metrics} scrape
 * that comes before the meters are bound waits for them, so it never answers without them; the
 * probes and {@code /status} need no meters. Add it with {@link #addTo} (which sets {@code readyOnStart(false)}) first, so that it stops last
 * and the probes answer throughout the shutdown.
 */
public final class GovernorEndpoint implements Service, dev.governor.Stoppable {
    private static final Logger LOG = LoggerFactory.getLogger(GovernorEndpoint.class);
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS_TEXT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final Governor governor;
    private final GovernorHooks hooks;
    private final GovernorMetrics metrics;
    private final MeterBinding meters;
    private final InetSocketAddress address;
    private final String title;
    private final Set<String> allowedHosts;
    private final boolean anyHost;
    private HttpListener bound; // bound, not yet serving; under this
    private volatile HttpListener serving;
    private volatile int port;

    private GovernorEndpoint(Builder b, GovernorMetrics metrics) {
        this.governor = b.governor;
        this.hooks = b.hooks;
        this.metrics = metrics;
        this.title = b.title;
        this.allowedHosts = Set.copyOf(b.allowedHosts);
        this.anyHost = b.anyHost;
        this.bound = bind(new InetSocketAddress(b.host, b.port)); // first: a busy port fails before any meter is made
        this.port = bound.port();
        this.address = new InetSocketAddress(b.host, port);
        this.meters = MeterBinding.start(b.governor, b.hooks, metrics, b.registry, b.jvmMetrics);
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

    /**
     * The registry served at {@code /metrics}: add meters of your own to it. Waits for the meters
     * made in the background (see {@link Builder#build()}) if they are not bound yet.
     *
     * @throws IllegalStateException if the registry or the meters could not be made
     */
    public PrometheusMeterRegistry registry() {
        try {
            return meters.registry();
        } catch (CompletionException e) {
            throw new IllegalStateException("the meters of " + governor + " could not be bound: " + e.getCause(), e);
        }
    }

    /** The governor's meters in {@link #registry()}. */
    public GovernorMetrics metrics() {
        return metrics;
    }

    @Override
    public void run(ServiceCtx ctx) throws Exception {
        HttpListener server;
        synchronized (this) {
            server = bound != null ? bound : bind(address); // a restart binds the same port again
            bound = null;
            serving = server;
        }
        try {
            if (ctx.stopping()) {
                return;
            }
            ctx.log().info("serving /metrics, /healthz, /readyz and /status at {}", uri());
            ctx.markReady();
            server.serve(ctx.name() + "-http-", this::hostAllowed, get(this::route));
        } finally {
            server.close();
            serving = null;
        }
    }

    @Override
    public void stop() {
        HttpListener s = serving;
        if (s != null) {
            s.close();
        }
    }

    /** Whether a request's {@code Host} may be served: see the class comment. */
    boolean hostAllowed(String hostHeader) {
        if (anyHost || hostHeader == null) {
            return true; // HTTP/1.0 without Host: no browser sends that
        }
        String host = hostHeader.strip().toLowerCase(java.util.Locale.ROOT);
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            return close > 0 && (close == host.length() - 1 || host.charAt(close + 1) == ':'); // an IPv6 literal
        }
        int colon = host.lastIndexOf(':');
        if (colon >= 0) {
            host = host.substring(0, colon);
        }
        if (host.equals("localhost") || host.endsWith(".localhost") || allowedHosts.contains(host)) {
            return true;
        }
        return host.matches("\\d{1,3}(\\.\\d{1,3}){3}"); // an IPv4 literal: rebinding needs a name
    }

    private void route(HttpListener.Exchange exchange) throws IOException {
        String path = exchange.uri.getPath() == null ? "" : exchange.uri.getPath();
        if (path.equals("/metrics") || path.startsWith("/metrics/")) {
            metrics(exchange);
        } else if (path.equals("/healthz") || path.startsWith("/healthz/")) {
            healthz(exchange);
        } else if (path.equals("/readyz") || path.startsWith("/readyz/")) {
            readyz(exchange);
        } else if (path.startsWith("/status.json")) {
            statusJson(exchange);
        } else if (path.startsWith("/status")) {
            statusPage(exchange);
        } else {
            index(exchange);
        }
    }

    private static HttpListener bind(InetSocketAddress address) {
        try {
            return new HttpListener(address);
        } catch (BindException e) {
            throw new IllegalStateException(
                    "cannot listen on " + describe(address) + ": " + e.getMessage() + " (port " + address.getPort()
                            + " is in use or not allowed); choose another port, or 0 for any free one",
                    e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on " + describe(address) + ": " + e.getMessage(), e);
        }
    }

    private static String describe(InetSocketAddress a) {
        return (a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress()) + ":" + a.getPort();
    }

    // ---- handlers -------------------------------------------------------------------------------

    private interface Handler {
        void handle(HttpListener.Exchange exchange) throws IOException;
    }

    private HttpListener.Handler get(Handler handler) {
        return exchange -> {
            try {
                String method = exchange.method;
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    exchange.setHeader("Allow", "GET, HEAD");
                    send(
                            exchange,
                            405,
                            "text/plain; charset=utf-8",
                            bytes("method " + method + " not allowed; use GET\n"));
                    return;
                }
                handler.handle(exchange);
            } catch (IOException e) {
                LOG.debug("client went away during {}", exchange.uri, e);
            } catch (RuntimeException e) {
                LOG.warn("{} failed", exchange.uri, e);
            }
        };
    }

    private void metrics(HttpListener.Exchange exchange) throws IOException {
        String accept = exchange.header("Accept");
        String contentType =
                accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
        PrometheusMeterRegistry registry;
        try {
            registry = meters.registry(); // made in the background: at once but for a scrape before readiness
        } catch (CompletionException e) {
            send(exchange, 503, "text/plain; charset=utf-8", bytes("meters unavailable: " + e.getCause() + "\n"));
            return;
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream(64 * 1024);
        registry.scrape(body, contentType);
        send(exchange, 200, contentType, body.toByteArray());
    }

    private void healthz(HttpListener.Exchange exchange) throws IOException {
        boolean healthy = hooks.healthy();
        send(
                exchange,
                healthy ? 200 : 503,
                "text/plain; charset=utf-8",
                bytes((healthy ? "healthy: " : "unhealthy: ") + hooks.statusLine() + "\n"));
    }

    private void readyz(HttpListener.Exchange exchange) throws IOException {
        boolean stopping = governor.stopping();
        boolean ready = !stopping && governor.isReady();
        String why = stopping ? "shutting down" : ready ? "ready" : "not ready";
        send(exchange, ready ? 200 : 503, "text/plain; charset=utf-8", bytes(why + ": " + hooks.statusLine() + "\n"));
    }

    private void statusJson(HttpListener.Exchange exchange) throws IOException {
        exchange.setHeader("Cache-Control", "no-store");
        send(
                exchange,
                200,
                "application/json; charset=utf-8",
                bytes(StatusPage.json(governor, hooks, metrics.refresh())));
    }

    private void statusPage(HttpListener.Exchange exchange) throws IOException {
        if (!exchange.uri.getPath().equals("/status")) {
            notFound(exchange);
            return;
        }
        send(exchange, 200, "text/html; charset=utf-8", bytes(StatusPage.html(title)));
    }

    private void index(HttpListener.Exchange exchange) throws IOException {
        if (!exchange.uri.getPath().equals("/")) {
            notFound(exchange);
            return;
        }
        exchange.setHeader("Location", "/status");
        send(exchange, 302, "text/plain; charset=utf-8", bytes("see /status, /metrics, /healthz, /readyz\n"));
    }

    private static void notFound(HttpListener.Exchange exchange) throws IOException {
        send(
                exchange,
                404,
                "text/plain; charset=utf-8",
                bytes("no " + exchange.uri.getPath() + " here; try /status, /metrics, /healthz, /readyz\n"));
    }

    private static void send(HttpListener.Exchange exchange, int status, String contentType, byte[] body)
            throws IOException {
        exchange.setHeader("Content-Type", contentType);
        String encoding = exchange.header("Accept-Encoding");
        if (body.length > 1024 && encoding != null && encoding.contains("gzip")) {
            ByteArrayOutputStream zipped = new ByteArrayOutputStream(body.length / 4);
            try (GZIPOutputStream gz = new GZIPOutputStream(zipped)) {
                gz.write(body);
            }
            body = zipped.toByteArray();
            exchange.setHeader("Content-Encoding", "gzip");
        }
        exchange.send(status, contentType, body);
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
        private final java.util.Set<String> allowedHosts = new java.util.HashSet<>();
        private boolean anyHost;

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

        /**
         * Also serve requests whose {@code Host} is {@code name} (a DNS name this endpoint is reached
         * by, e.g. a pod's service name). Loopback names and IP addresses are always served.
         */
        public Builder allowHost(String name) {
            Objects.requireNonNull(name, "name");
            if (name.isBlank() || name.contains("/") || name.contains(" ")) {
                throw new IllegalArgumentException("allowHost(\"" + name + "\"): a host name has no blanks or slashes");
            }
            allowedHosts.add(name.strip().toLowerCase(java.util.Locale.ROOT));
            return this;
        }

        /** Serve whatever {@code Host} a request names (behind a proxy that checks it). Off by default. */
        public Builder allowAnyHost() {
            this.anyHost = true;
            return this;
        }

        /** Heading of the status page; default "Governor". */
        public Builder title(String title) {
            this.title = Objects.requireNonNull(title, "title");
            return this;
        }

        /**
         * Binds the port at once; the meters are made on a background thread once the governor is
         * first ready (or when asked for first, or a second from now at the latest): the registry
         * and the JVM's meters cost a few hundred ms of class loading on a cold JVM, which then
         * does not delay the governor's start. The governor's events are counted from this call on
         * all the same; {@code /metrics} and {@link GovernorEndpoint#registry()} wait for the
         * meters if they come first.
         *
         * @throws IllegalStateException if the port is in use, naming the address
         */
        public GovernorEndpoint build() {
            GovernorMetrics m = metrics;
            if (m == null) {
                GovernorMetrics.Builder mb = GovernorMetrics.builder(governor, hooks);
                pools.forEach(mb::aggregateChildrenOf);
                m = mb.build();
            } else if (!pools.isEmpty()) {
                throw new IllegalStateException("pools " + pools
                        + " set on the endpoint and metrics given: set the pools on the GovernorMetrics");
            }
            GovernorEndpoint endpoint = new GovernorEndpoint(this, m);
            return endpoint;
        }
    }
}
