package dev.governor.samples;

import dev.governor.Service;
import dev.governor.ServiceCtx;
import dev.governor.Stoppable;
import dev.governor.runtime.systemd.SocketActivation;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.channels.ServerSocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP echo server on blocking sockets, one virtual thread per connection, listening on the socket
 * systemd passed by name (see {@link SocketActivation}) or on a fresh bind. It implements
 * {@link Stoppable}: closing the listening socket and every connection makes {@code run} return
 * even where a blocking call would not notice the cancelled context.
 */
public final class EchoServer implements Service, Stoppable {
    private final String listenerName;
    private final InetSocketAddress address;
    private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
    private volatile ServerSocket server;

    public EchoServer(int port) {
        this("echo", new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    }

    /**
     * An echo server on the listener systemd passes as {@code listenerName} ({@code LISTEN_FDNAMES},
     * {@code --fdname=}, {@code FileDescriptorName=}), or on a fresh bind at {@code address} when none was.
     */
    public EchoServer(String listenerName, InetSocketAddress address) {
        this.listenerName = listenerName;
        this.address = address;
    }

    /** The port actually bound (useful with port 0), or -1 before the server listens. */
    public int port() {
        ServerSocket s = server;
        return s == null ? -1 : s.getLocalPort();
    }

    @Override
    public void run(ServiceCtx ctx) throws IOException {
        // the socket systemd passed under this name (socket activation or the fd store), else a fresh bind;
        // a restart of this service gets the same socket back
        try (ServerSocketChannel channel = SocketActivation.fromEnvironment().tcp(listenerName, address);
                ServerSocket listener = channel.socket()) {
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
        try (s;
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream()) {
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
        return "EchoServer[" + listenerName + ", " + address + ", connections=" + connections.size() + "]";
    }
}
