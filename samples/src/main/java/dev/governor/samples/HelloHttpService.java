package dev.governor.samples;

import dev.governor.Service;
import dev.governor.ServiceCtx;
import dev.governor.Stoppable;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.VirtualThreadPool;

/**
 * One generation of the hello service: a Jetty 12 server on virtual threads, serving
 * {@code GET /hello} with {@code hello from generation N: GREETING} on a listener the governor owns.
 *
 * <p><b>Drain.</b> When its context is cancelled (a reload retires this generation, or shutdown),
 * it stops accepting (closing its own channel: the governor's socket stays open for the next
 * generation), answers the requests still coming on open keep-alive connections with
 * {@code Connection: close} (so each client reconnects, to the next generation, after a complete
 * answer), and returns once no connection is left. It never closes an idle keep-alive connection
 * by itself (a client may be sending on it at that moment): those are closed when the service's
 * {@code drainTimeout} runs out and {@link #stop()} stops the server.
 */
final class HelloHttpService implements Service, Stoppable {
    static final int SPREAD_MS = 250;
    private final Callable<ServerSocketChannel> listener;
    private final HelloConfig config;
    private final int generation;
    private volatile boolean draining;
    private volatile long drainBegan;
    private volatile Server server;

    /** {@code listener} gives a new channel over the governor's socket (it is called once per run). */
    HelloHttpService(Callable<ServerSocketChannel> listener, HelloConfig config, int generation) {
        this.listener = listener;
        this.config = config;
        this.generation = generation;
    }

    @Override
    public void run(ServiceCtx ctx) throws Exception {
        Server s = new Server(new VirtualThreadPool());
        s.setStopTimeout(1000); // bounds Jetty's own waits in stop(): the drain before it is the governor's
        ServerConnector connector = new ServerConnector(s, 1, 1);
        connector.open(listener.call());
        s.addConnector(connector);
        // the pid too: across an upgrade, the answers show which process served them
        byte[] body = ("hello from generation " + generation + ": " + config.greeting() + " (pid "
                        + ProcessHandle.current().pid() + ")\n")
                .getBytes(StandardCharsets.UTF_8);
        s.setHandler(new Hello(body));
        server = s;
        try {
            s.start();
            ctx.log().info("generation {} serving /hello on {}", generation, connector.getLocalPort());
            ctx.markReady();
            ctx.awaitStop();
            drain(ctx, connector);
        } finally {
            s.stop();
        }
    }

    private void drain(ServiceCtx ctx, ServerConnector connector) {
        drainBegan = System.nanoTime();
        draining = true;
        connector.close(); // no more accepts here: new connections wait in the backlog for the next generation
        long began = System.nanoTime();
        try {
            boolean told = false;
            while (openConnections(connector) > 0) {
                Thread.sleep(10); // polls the connection count; the governor's drain timeout bounds the whole
                if (!told && System.nanoTime() - began > TimeUnit.SECONDS.toNanos(1)) {
                    told = true;
                    ctx.log()
                            .info(
                                    "generation {} still drains {} connection(s): {}",
                                    generation,
                                    openConnections(connector),
                                    connector.getConnectedEndPoints());
                }
            }
            ctx.log()
                    .info(
                            "generation {} drained in {} ms",
                            generation,
                            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
        } catch (
                InterruptedException
                        e) { // the drain timeout ran out: idle keep-alive connections are closed by the stop
            ctx.log()
                    .info(
                            "generation {}: {} connection(s) still open after the drain, closing them",
                            generation,
                            openConnections(connector));
        }
    }

    /** Connections not yet closed (a closed one may stay listed by Jetty a while; it holds no client). */
    private static long openConnections(ServerConnector connector) {
        return connector.getConnectedEndPoints().stream()
                .filter(org.eclipse.jetty.io.EndPoint::isOpen)
                .count();
    }

    @Override
    public void stop() {
        Server s = server;
        if (s != null) {
            try {
                s.stop();
            } catch (Exception e) {
                throw new IllegalStateException("stopping the hello server of generation " + generation + " failed", e);
            }
        }
    }

    /**
     * Whether a draining generation closes this request's connection now: each connection's turn
     * comes at a point of the first {@value #SPREAD_MS} ms of the drain (from a hash of its id), so
     * the clients do not all reconnect to the next generation in the same instant.
     */
    private boolean closeNow(Request request) {
        long turn = Math.floorMod(request.getConnectionMetaData().getId().hashCode(), SPREAD_MS);
        return System.nanoTime() - drainBegan >= TimeUnit.MILLISECONDS.toNanos(turn);
    }

    /** {@code GET /hello}; 404 for anything else. */
    private final class Hello extends Handler.Abstract.NonBlocking {
        private final byte[] body;

        Hello(byte[] body) {
            this.body = body;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            if (!"GET".equals(request.getMethod()) || !"/hello".equals(Request.getPathInContext(request))) {
                Response.writeError(request, response, callback, HttpStatus.NOT_FOUND_404);
                return true;
            }
            response.setStatus(HttpStatus.OK_200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
            if (draining
                    && closeNow(
                            request)) { // finish this request, then close: the client reconnects to the next generation
                response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
            }
            response.write(true, ByteBuffer.wrap(body), callback);
            return true;
        }
    }

    @Override
    public String toString() {
        return "HelloHttpService[generation " + generation + ", " + config.greeting() + (draining ? ", draining" : "")
                + "]";
    }
}
