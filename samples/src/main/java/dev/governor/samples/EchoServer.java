package dev.governor.samples;

import dev.governor.Service;
import dev.governor.ServiceCtx;
import dev.governor.Stoppable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP echo server on blocking sockets, one virtual thread per connection. It implements
 * {@link Stoppable}: closing the listening socket and every connection makes {@code run} return
 * even where a blocking call would not notice the cancelled context.
 */
public final class EchoServer implements Service, Stoppable {
    private final InetSocketAddress address;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private volatile ServerSocket server;

    public EchoServer(int port) {
        this(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    public EchoServer(InetSocketAddress address) {
        this.address = address;
    }

    /** The port actually bound (useful with port 0), or -1 before the server listens. */
    public int port() {
        ServerSocket s = server;
        return s == null ? -1 : s.getLocalPort();
    }

    @Override
    public void run(ServiceCtx ctx) throws IOException {
        try (ServerSocket listener = new ServerSocket()) {
            listener.setReuseAddress(true);
            listener.bind(address);
            server = listener;
            ctx.log().info("echo listening on {}", listener.getLocalSocketAddress());
            ctx.markReady();
            while (!ctx.stopping()) {
                Socket s;
                try {
                    s = listener.accept();
                } catch (SocketException e) {
                    if (ctx.stopping()) {
                        return;
                    }
                    throw e;
                }
                connections.add(s);
                Thread.ofVirtual().name(ctx.name() + "/conn").start(() -> serve(s));
            }
        } finally {
            server = null;
            connections.forEach(EchoServer::closeQuietly);
        }
    }

    private void serve(Socket s) {
        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
            in.transferTo(out);
        } catch (IOException e) {
            // the client went away, or we are stopping
        } finally {
            connections.remove(s);
        }
    }

    @Override
    public void stop() {
        closeQuietly(server);
        connections.forEach(EchoServer::closeQuietly);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing on stop
            }
        }
    }

    @Override
    public String toString() {
        return "EchoServer[" + address + ", connections=" + connections.size() + "]";
    }
}
