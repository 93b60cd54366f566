package dev.governor.samples;

import dev.governor.Listeners;
import dev.governor.Service;
import dev.governor.ServiceCtx;
import dev.governor.Stoppable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small HTTP/1.1 keep-alive service on a socket of {@link Listeners} (so an upgrade hands it to
 * the next process), answering every {@code GET} with {@code 200} and the pid that served it:
 * {@code served by pid 4711}. Ready once it accepts.
 *
 * <p><b>Drain.</b> When stopped it stops accepting (the socket itself stays open: queued
 * connections wait for whoever accepts next, the new process after an upgrade) and lets every open
 * connection finish: the next request on it is answered with {@code Connection: close}, then it is
 * closed. A connection with no request within {@link #DRAIN} is closed idle. So a client that
 * honours {@code Connection: close} never sees an error across an upgrade. Give the service a
 * shutdown timeout above {@link #DRAIN} ({@link #SHUTDOWN_TIMEOUT}).
 */
public final class PidHttpService implements Service, Stoppable {
    /** How long a draining connection waits for one more request. */
    public static final Duration DRAIN = Duration.ofSeconds(5);
    /** A shutdown timeout that leaves the drain its time. */
    public static final Duration SHUTDOWN_TIMEOUT = DRAIN.plusSeconds(5);
    private static final int MAX_HEADER = 16384;

    private final Listeners listeners;
    private final String name;
    private final InetSocketAddress address;
    private final byte[] body = ("served by pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong requests = new AtomicLong();
    private volatile ServerSocketChannel accepting;
    private volatile boolean draining;

    public PidHttpService(Listeners listeners, String name, InetSocketAddress address) {
        this.listeners = listeners;
        this.name = name;
        this.address = address;
    }

    @Override
    public void run(ServiceCtx ctx) throws Exception {
        draining = false;
        ServerSocketChannel ch = listeners.tcp(name, address);
        accepting = ch;
        ctx.log().info("http listening on {} as pid {}", ch.getLocalAddress(), ProcessHandle.current().pid());
        ctx.markReady();
        try {
            while (!ctx.stopping()) {
                SocketChannel conn = ch.accept();
                open.add(conn);
                Thread.ofVirtual().name(ctx.name() + "-conn").start(() -> serve(conn));
            }
        } catch (IOException closed) {
            if (!ctx.stopping()) {
                throw closed;
            }
        } finally {
            ch.close(); // a dup: the socket stays open for the next run or process
        }
        // drain: every open connection answers its next request with Connection: close
        // the governor interrupts a run once it has called stop(): keep draining, then pass the interrupt on
        long deadline = System.nanoTime() + DRAIN.toNanos() + Duration.ofSeconds(1).toNanos();
        boolean interrupted = false;
        while (!open.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        ctx.log().info("http drained after {} requests; {} connections left", requests.get(), open.size());
    }

    @Override
    public void stop() {
        draining = true;
        ServerSocketChannel ch = accepting;
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing a dup
            }
        }
    }

    private void serve(SocketChannel conn) {
        try (conn) {
            Socket socket = conn.socket(); // its streams honour the read timeout of a draining connection
            InputStream in = new java.io.BufferedInputStream(socket.getInputStream(), 8192);
            OutputStream out = socket.getOutputStream();
            while (true) {
                socket.setSoTimeout(draining ? (int) DRAIN.toMillis() : 0);
                String request = readHead(in);
                if (request == null) {
                    return; // the client closed, or idle while draining
                }
                requests.incrementAndGet();
                boolean last = draining || request.toLowerCase(java.util.Locale.ROOT).contains("\nconnection: close");
                boolean get = request.startsWith("GET ");
                String status = get ? "200 OK" : "405 Method Not Allowed";
                String head = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\n"
                        + (last ? "Connection: close\r\n" : "") + "\r\n";
                byte[] h = head.getBytes(StandardCharsets.US_ASCII);
                byte[] answer = java.util.Arrays.copyOf(h, h.length + body.length);
                System.arraycopy(body, 0, answer, h.length, body.length);
                out.write(answer); // one write: no Nagle delay between head and body
                out.flush();
                if (last) {
                    return;
                }
            }
        } catch (IOException e) {
            // reset by the client, or idle past the drain
        } finally {
            open.remove(conn);
        }
    }

    /** The request line and headers, or null at the end of the stream (or a timeout). */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder(128);
        int state = 0;
        try {
            for (int c; (c = in.read()) >= 0; ) {
                sb.append((char) c);
                state = (c == '\r' && (state == 0 || state == 2)) ? state + 1 : (c == '\n' && (state == 1 || state == 3)) ? state + 1 : 0;
                if (state == 4) {
                    return sb.toString();
                }
                if (sb.length() > MAX_HEADER) {
                    return null;
                }
            }
        } catch (java.net.SocketTimeoutException idle) {
            return null;
        }
        return null;
    }

    @Override
    public String toString() {
        return "PidHttpService[" + name + " at " + address + ", requests=" + requests.get() + ", open=" + open.size()
                + (draining ? ", draining" : "") + "]";
    }
}
