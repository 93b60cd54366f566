package dev.governor.runtime.metrics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoint's HTTP/1.1 server: one request per connection ({@code Connection: close}), each on
 * a virtual thread, with every resource bounded. The JDK's {@code HttpServer} leaked a descriptor
 * for each client that went away before its answer and held slow-loris connections for minutes;
 * here every connection is closed in one {@code finally}, whatever happens.
 *
 * <ul>
 *   <li>the request line and headers: at most {@link #MAX_HEAD} bytes (else 431), within
 *       {@link #HEAD_TIMEOUT} in all, however slowly they trickle (else the connection is closed);
 *   <li>a whole exchange, answer included: at most {@link #EXCHANGE_TIMEOUT} (a client that does
 *       not read its answer is cut off);
 *   <li>at most {@link #MAX_CONNECTIONS} at once; more get 503 and are closed;
 *   <li>an error of {@code accept} (out of descriptors, say) is logged once a second at most and
 *       retried: it never ends the service.
 * </ul>
 */
final class HttpListener implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GovernorEndpoint.class);
    static final int MAX_HEAD = 8192;
    static final Duration HEAD_TIMEOUT = Duration.ofSeconds(10);
    static final Duration EXCHANGE_TIMEOUT = Duration.ofSeconds(30);
    static final int MAX_CONNECTIONS = 64;
    private static final Duration ACCEPT_RETRY = Duration.ofMillis(100);

    /** One parsed request and the means to answer it once. */
    static final class Exchange {
        final String method;
        final URI uri;
        private final Map<String, String> headers;
        private final Map<String, String> responseHeaders = new LinkedHashMap<>();
        private final OutputStream out;
        private boolean answered;

        Exchange(String method, URI uri, Map<String, String> headers, OutputStream out) {
            this.method = method;
            this.uri = uri;
            this.headers = headers;
            this.out = out;
        }

        /** The request header {@code name} (any case), or null. */
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        void setHeader(String name, String value) {
            responseHeaders.put(name, value);
        }

        /** Sends the answer: status line, headers, and the body unless the request was HEAD. */
        void send(int status, String contentType, byte[] body) throws IOException {
            if (answered) {
                throw new IllegalStateException("already answered");
            }
            answered = true;
            StringBuilder head = new StringBuilder(256)
                    .append("HTTP/1.1 ")
                    .append(status)
                    .append(' ')
                    .append(reason(status))
                    .append("\r\n");
            head.append("Content-Type: ").append(contentType).append("\r\n");
            head.append("Content-Length: ").append(body.length).append("\r\n");
            head.append("X-Content-Type-Options: nosniff\r\n");
            responseHeaders.forEach(
                    (k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            head.append("Connection: close\r\n\r\n");
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (!method.equals("HEAD")) {
                out.write(body);
            }
            out.flush();
        }
    }

    interface Handler {
        void handle(Exchange exchange) throws IOException;
    }

    private final ServerSocket server;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong cutOff = new AtomicLong();
    private final AtomicLong acceptErrors = new AtomicLong();
    private volatile boolean closing;

    private record Connection(Socket socket, long startedNanos) {}

    /** Binds at once: a port in use fails here. */
    HttpListener(InetSocketAddress address) throws IOException {
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(address, 128);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        this.server = s;
    }

    int port() {
        return server.getLocalPort();
    }

    /**
     * Serves until {@link #close()} (or the calling thread is interrupted); {@code hostAllowed}
     * judges each request's {@code Host} header (421 when it says no).
     */
    void serve(String threadPrefix, Predicate<String> hostAllowed, Handler handler) throws IOException {
        Thread reaper = Thread.ofVirtual().name(threadPrefix + "reaper").start(this::reap);
        try {
            long lastLogged = 0;
            while (!closing) {
                Socket socket;
                try {
                    socket = server.accept();
                } catch (IOException e) {
                    if (closing || server.isClosed() || Thread.currentThread().isInterrupted()) {
                        return;
                    }
                    acceptErrors.incrementAndGet();
                    long now = System.nanoTime();
                    if (now - lastLogged > 1_000_000_000L) {
                        lastLogged = now;
                        LOG.warn(
                                "HTTP endpoint on port {}: accept failed ({}); retrying (errors so far: {})",
                                port(),
                                e.toString(),
                                acceptErrors.get());
                    }
                    try {
                        Thread.sleep(ACCEPT_RETRY);
                    } catch (InterruptedException stop) {
                        return;
                    }
                    continue;
                }
                Connection c = new Connection(socket, System.nanoTime());
                open.add(c);
                try {
                    Thread.ofVirtual().name(threadPrefix, served.get()).start(() -> exchange(c, hostAllowed, handler));
                } catch (Throwable e) {
                    closeQuietly(c);
                    throw e;
                }
            }
        } finally {
            close();
            reaper.interrupt();
            open.forEach(this::closeQuietly);
        }
    }

    private void exchange(Connection c, Predicate<String> hostAllowed, Handler handler) {
        Socket socket = c.socket();
        try {
            socket.setSoTimeout((int) HEAD_TIMEOUT.toMillis());
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            if (open.size() > MAX_CONNECTIONS) {
                plain(out, 503, "too many connections (more than " + MAX_CONNECTIONS + "); try again later\n");
                return;
            }
            Exchange ex =
                    read(socket, new java.io.BufferedInputStream(socket.getInputStream(), 2048), out, c.startedNanos());
            if (ex == null) {
                return;
            }
            String host = ex.header("host");
            if (!hostAllowed.test(host)) {
                ex.send(
                        421,
                        "text/plain; charset=utf-8",
                        ("Host " + host + " is not served here (allowed: this endpoint's address and"
                                        + " loopback names; see GovernorEndpoint.Builder.allowHost)\n")
                                .getBytes(StandardCharsets.UTF_8));
                return;
            }
            served.incrementAndGet();
            handler.handle(ex);
        } catch (SocketTimeoutException | SocketException e) {
            cutOff.incrementAndGet(); // timed out, reset, or closed by the reaper
        } catch (IOException e) {
            LOG.debug("HTTP client went away", e);
        } catch (RuntimeException e) {
            LOG.warn("HTTP request failed", e);
        } finally {
            closeQuietly(c);
        }
    }

    /** The request head; null (after answering 400/431 where possible) when it is not one. */
    private static Exchange read(Socket socket, InputStream in, OutputStream out, long startedNanos)
            throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream(512);
        int matched = 0; // of "\r\n\r\n" (or "\n\n")
        long deadline = startedNanos + HEAD_TIMEOUT.toNanos();
        outer:
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new SocketTimeoutException("request head not complete within " + HEAD_TIMEOUT.toMillis() + " ms");
            }
            if (in.available() == 0) {
                socket.setSoTimeout(
                        (int) Math.max(1, left / 1_000_000)); // a slow trickle gets no more than the whole head's time
            }
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            if (head.size() > MAX_HEAD) {
                plain(out, 431, "request head longer than " + MAX_HEAD + " bytes\n");
                return null;
            }
            if (b == '\n') {
                matched++;
                if (matched == 2) {
                    break outer;
                }
            } else if (b != '\r') {
                matched = 0;
            }
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r?\n");
        String[] request = lines[0].split(" ");
        if (request.length != 3 || !request[2].startsWith("HTTP/1.")) {
            plain(out, 400, "not an HTTP/1.x request line\n");
            return null;
        }
        URI uri;
        try {
            uri = new URI(request[1]);
        } catch (java.net.URISyntaxException e) {
            plain(out, 400, "bad request target\n");
            return null;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.putIfAbsent(
                        lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
                        lines[i].substring(colon + 1).strip());
            }
        }
        return new Exchange(request[0], uri, headers, out);
    }

    private static void plain(OutputStream out, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + status + " " + reason(status)
                        + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + body.length
                        + "\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }

    /** Closes connections older than {@link #EXCHANGE_TIMEOUT}: a client that never reads its answer blocks a write forever. */
    private void reap() {
        long limit = EXCHANGE_TIMEOUT.toNanos();
        while (!closing) {
            try {
                Thread.sleep(Duration.ofSeconds(1));
            } catch (InterruptedException stop) {
                return;
            }
            long now = System.nanoTime();
            for (Connection c : open) {
                if (now - c.startedNanos() > limit) {
                    closeQuietly(c);
                }
            }
        }
    }

    private void closeQuietly(Connection c) {
        open.remove(c);
        try {
            c.socket().close();
        } catch (IOException ignored) {
            // closing
        }
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 302 -> "Found";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 421 -> "Misdirected Request";
            case 431 -> "Request Header Fields Too Large";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    int openConnections() {
        return open.size();
    }

    @Override
    public void close() {
        closing = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public String toString() {
        return "HttpListener[port=" + port() + ", open=" + open.size() + ", served=" + served.get() + ", cutOff="
                + cutOff.get() + ", acceptErrors=" + acceptErrors.get() + "]";
    }
}
