package dev.governor.runtime.handover;

import dev.governor.runtime.internal.os.Libc;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening end of a handover, at a path of its own: bound under a temporary name, set to mode
 * 0600, then renamed into place, so it is never reachable at a looser mode. Serves connections one
 * at a time; a peer of another uid, or one the caller does not expect, is refused and the socket
 * keeps waiting for the right one.
 */
public final class HandoverSocket implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HandoverSocket.class);
    private static final int SLICE_MILLIS = 100;

    private final Path path;
    private final ServerSocketChannel server;

    private HandoverSocket(Path path, ServerSocketChannel server) {
        this.path = path;
        this.server = server;
    }

    /** Listens at {@code path} (at most 107 bytes; the file must not exist). */
    public static HandoverSocket open(Path path) throws IOException {
        Objects.requireNonNull(path, "path");
        Path abs = path.toAbsolutePath().normalize();
        int len = abs.toString().getBytes(StandardCharsets.UTF_8).length;
        if (len > 107) {
            throw new IllegalArgumentException(
                    "handover socket path " + abs + " is " + len + " bytes; unix sockets allow at most 107");
        }
        Path tmp = abs.resolveSibling(
                "." + abs.getFileName() + "." + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(tmp), 4);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            ch.configureBlocking(false);
            return new HandoverSocket(abs, ch);
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /**
     * Waits until {@code deadlineNanos} for a connection from this uid (or root) whose pid
     * {@code expected} accepts, and hands it the sockets; returns the pid the receiver announced
     * ready. Refused peers are logged and closed; the wait goes on for the right one.
     *
     * @param giveUp checked between waits: true ends the wait at once (the new process exited)
     */
    public long serve(
            List<HandoverSender.Outgoing> sockets,
            LongPredicate expected,
            long receivedDeadline,
            long readyDeadline,
            java.util.function.BooleanSupplier giveUp)
            throws HandoverException {
        int fd = dev.governor.runtime.systemd.FdChannels.fd(server);
        try {
            while (true) {
                SocketChannel conn = null;
                while (conn == null) {
                    if (giveUp.getAsBoolean()) {
                        throw new HandoverException("the new process ended before it asked for the sockets");
                    }
                    if (System.nanoTime() - receivedDeadline >= 0) {
                        throw new HandoverException("the new process did not ask for the sockets in time");
                    }
                    if (Libc.poll(fd, Libc.POLLIN, SLICE_MILLIS)) {
                        conn = server.accept();
                    }
                }
                Wire wire = new Wire(conn);
                try {
                    Handover.checkPeer(conn, "the process connecting to " + path);
                    long pid = Handover.peerPid(wire);
                    if (!expected.test(pid)) {
                        refuse(wire, "pid " + pid + " is not the process started for this upgrade");
                        continue;
                    }
                    String hello = wire.readLine(receivedDeadline);
                    return HandoverSender.serve(wire, hello, sockets, receivedDeadline, readyDeadline);
                } catch (HandoverException e) {
                    if (e.getMessage().startsWith("permission denied")) {
                        refuse(wire, e.getMessage());
                        continue;
                    }
                    throw e;
                } finally {
                    wire.close();
                }
            }
        } catch (HandoverException e) {
            throw e;
        } catch (java.net.SocketTimeoutException e) {
            // connected, but its pid or hello came too late (a new JVM slow to start on a loaded machine):
            // the same as not asking in time, so the caller reports it as a timeout
            throw new HandoverException(
                    "the new process did not ask for the sockets in time (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new HandoverException("handover at " + path + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Answers a refused peer with a frame saying why (and no descriptor), after reading its hello so
     * that closing does not reset the connection; then the socket waits for the right peer.
     */
    private void refuse(Wire wire, String reason) {
        LOG.warn("handover socket {}: refused a peer: {}", path, reason);
        long deadline = System.nanoTime() + 1_000_000_000L;
        try {
            wire.readLine(deadline);
            Map<String, Object> refusal = HandoverSender.header();
            refusal.put("error", reason);
            wire.sendFrame(refusal, new int[0], deadline);
        } catch (IOException | RuntimeException e) {
            // the peer went away: nothing more to tell it
        }
        wire.close();
    }

    /** Stops listening and removes the socket file. */
    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // gone
        }
    }

    @Override
    public String toString() {
        return "HandoverSocket[" + path + (server.isOpen() ? ", listening" : ", closed") + "]";
    }
}
