package dev.governor.runtime.handover;

import dev.governor.runtime.internal.os.Libc;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The new process's side of a handover: connects, receives every socket and checks each against
 * what it was told — the kind by {@code getsockopt} (domain, type, listening), the address by
 * {@code getsockname} — and later tells the old process it is ready. Any mismatch, an unknown protocol version, a header that is not one, a wrong number of
 * descriptors: a {@link HandoverException} naming it, the sender told with an {@code ERROR} line,
 * every descriptor received so far closed.
 */
public final class HandoverReceiver implements AutoCloseable {
    /**
     * A socket received: what the sender said of it (checked), and its descriptor, owned by the caller
     * from now on and close-on-exec. It shares its open file description with the sender's socket:
     * wrap it with {@code FdChannels.shared…} variants, which leave {@code O_NONBLOCK} alone.
     */
    public record Socket(Entry entry, int fd) {}

    private final Wire wire;
    private final long senderPid;
    private final List<Socket> sockets;
    private volatile boolean closed;

    private HandoverReceiver(Wire wire, long senderPid, List<Socket> sockets) {
        this.wire = wire;
        this.senderPid = senderPid;
        this.sockets = List.copyOf(sockets);
    }

    /** Connects to {@code socket} and receives every socket the process there hands over, within {@code timeout}. */
    public static HandoverReceiver fetch(Path socket, Duration timeout) throws HandoverException {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(timeout, "timeout");
        long deadline = System.nanoTime() + timeout.toNanos();
        SocketChannel ch;
        try {
            ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new HandoverException("cannot reach the handover socket " + socket + ": " + e.getMessage(), e);
        }
        Wire wire = new Wire(ch);
        List<Socket> got = new ArrayList<>();
        try {
            Handover.checkPeer(ch, "the process serving " + socket);
            wire.sendLine(Handover.HELLO + " " + Handover.VERSION, deadline);
            long senderPid = receiveAll(wire, got, deadline);
            wire.sendLine("RECEIVED " + got.size(), deadline);
            return new HandoverReceiver(wire, senderPid, got);
        } catch (IOException | RuntimeException e) {
            for (Socket s : got) {
                Libc.close(s.fd());
            }
            String reason = describe(e, socket);
            try {
                wire.sendLine(
                        "ERROR " + reason.replace('\n', ' '), Math.min(deadline, System.nanoTime() + 1_000_000_000L));
            } catch (IOException | RuntimeException ignored) {
                // the sender is gone; the reason still goes to our caller
            }
            wire.close();
            throw e instanceof HandoverException h ? h : new HandoverException(reason, e);
        }
    }

    private static String describe(Exception e, Path socket) {
        return switch (e) {
            case HandoverException h -> h.getMessage();
            case SocketTimeoutException t -> "the handover from " + socket + " did not complete in time";
            case EOFException eof -> "the process at " + socket + " closed the connection during the handover";
            default -> "handover from " + socket + " failed: " + e.getMessage();
        };
    }

    /** Reads every batch into {@code got}; returns the sender's pid. */
    private static long receiveAll(Wire wire, List<Socket> got, long deadline) throws IOException {
        Set<String> names = new HashSet<>();
        long batches = 1;
        long total = -1;
        long senderPid = -1;
        for (long b = 0; b < batches; b++) {
            Wire.Frame frame = wire.readFrame(deadline);
            List<Integer> fds = new ArrayList<>(frame.fds());
            try {
                Map<String, Object> h = frame.header();
                if (!Handover.PROTOCOL.equals(h.get("protocol"))) {
                    throw new HandoverException("the header names protocol " + quote(h.get("protocol")) + ", not \""
                            + Handover.PROTOCOL + "\": not a handover");
                }
                if (!(h.get("version") instanceof Long v) || v != Handover.VERSION) {
                    throw new HandoverException("handover protocol version " + quote(h.get("version"))
                            + " is not supported: this process speaks version " + Handover.VERSION);
                }
                if (h.get("error") instanceof String refusal) {
                    throw new HandoverException("the sender refused: " + refusal);
                }
                senderPid = number(h, "pid");
                long batch = number(h, "batch");
                if (batch != b) {
                    throw new HandoverException("batch " + batch + " arrived where batch " + b + " was due");
                }
                if (b == 0) {
                    batches = number(h, "batches");
                    total = number(h, "total");
                    if (batches < 1 || total < 0 || total > batches * Libc.SCM_MAX_FD) {
                        throw new HandoverException(
                                "the header announces " + total + " sockets in " + batches + " batches: impossible");
                    }
                } else if (number(h, "batches") != batches || number(h, "total") != total) {
                    throw new HandoverException(
                            "batch " + b + " contradicts the first on the number of batches or sockets");
                }
                if (!(h.get("sockets") instanceof List<?> entries)) {
                    throw new HandoverException("batch " + b + " has no \"sockets\" list");
                }
                if (entries.size() != fds.size()) {
                    throw new HandoverException("batch " + b + " announces " + entries.size() + " sockets but carries "
                            + fds.size() + " descriptors");
                }
                for (int i = 0; i < entries.size(); i++) {
                    Entry entry;
                    try {
                        entry = Entry.fromJson(entries.get(i));
                    } catch (IllegalArgumentException e) {
                        throw new HandoverException("batch " + b + ", socket " + i + ": " + e.getMessage());
                    }
                    if (!names.add(entry.name())) {
                        throw new HandoverException("socket name \"" + entry.name() + "\" is announced twice");
                    }
                    int fd = fds.get(i);
                    if (entry.kind() == Kind.FILE) {
                        String link = Kind.link(fd);
                        if (!link.equals(entry.address())) {
                            throw new HandoverException("file \"" + entry.name() + "\" was announced as "
                                    + entry.address() + ", but its descriptor is " + link);
                        }
                        fds.set(i, -1);
                        got.add(new Socket(entry, fd));
                        continue;
                    }
                    String actual = Kind.actual(fd);
                    if (!actual.equals(entry.kind().wireName())) {
                        throw new HandoverException("socket \"" + entry.name() + "\" was announced as " + entry.kind()
                                + " at " + entry.address() + ", but its descriptor is "
                                + (actual.startsWith("a ") || actual.startsWith("not")
                                        ? actual
                                        : "a " + actual + " socket"));
                    }
                    fds.set(i, -1); // in got now, closed from there on failure
                    got.add(new Socket(entry, fd));
                    java.net.SocketAddress local = Libc.localAddress(fd);
                    String bound = local == null ? "an address of another family" : Entry.address(local);
                    if (!bound.equals(entry.address())) {
                        throw new HandoverException("socket \"" + entry.name() + "\" was announced at "
                                + entry.address() + ", but it is bound to " + bound);
                    }
                }
            } finally {
                for (int fd : fds) {
                    if (fd >= 0) {
                        Libc.close(fd);
                    }
                }
            }
        }
        if (got.size() != total) {
            throw new HandoverException("received " + got.size() + " sockets, the header announced " + total);
        }
        return senderPid;
    }

    private static long number(Map<String, Object> h, String key) throws HandoverException {
        if (h.get(key) instanceof Long n) {
            return n;
        }
        throw new HandoverException("the header lacks the integer \"" + key + "\"");
    }

    private static String quote(Object value) {
        return value instanceof String s ? "\"" + HandoverSender.shorten(s) + "\"" : String.valueOf(value);
    }

    /** The sockets received, in the order sent. */
    public List<Socket> sockets() {
        return sockets;
    }

    /** The pid of the process that sent them. */
    public long senderPid() {
        return senderPid;
    }

    /**
     * Tells the sender this process is ready and waits for its {@code DRAIN}: true when the sender
     * accepted (it drains and exits now), false when it had given up (timeout) or is gone — then
     * this process must not serve on as if it had taken over.
     */
    public boolean ready(Duration timeout) {
        return ready(timeout, () -> {});
    }

    /** As {@link #ready(Duration)}, running {@code onDrain} after the sender's {@code DRAIN} and before the connection ends. */
    public boolean ready(Duration timeout, Runnable onDrain) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            wire.sendLine("READY " + ProcessHandle.current().pid(), deadline);
            if (!wire.readLine(deadline).equals("DRAIN")) {
                return false;
            }
            onDrain.run();
            return true;
        } catch (IOException e) {
            return false;
        } finally {
            close();
        }
    }

    /** Tells the sender this process failed ({@code reason} goes into its report) and ends the connection. */
    public void fail(String reason) {
        try {
            wire.sendLine("ERROR " + HandoverSender.shorten(reason), System.nanoTime() + 1_000_000_000L);
        } catch (IOException | RuntimeException ignored) {
            // the sender is gone
        } finally {
            close();
        }
    }

    /** Ends the connection (the received descriptors stay open: they are the caller's). */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            wire.close();
        }
    }

    /** The kind of a JDK channel, for the sender's entries. */
    public static Kind kindOf(Channel channel) throws IOException {
        return switch (channel) {
            case DatagramChannel d -> Kind.UDP;
            case ServerSocketChannel s -> s.getLocalAddress() instanceof UnixDomainSocketAddress ? Kind.UNIX : Kind.TCP;
            default ->
                throw new IllegalArgumentException(
                        "channel " + channel + " is neither a server socket nor a datagram channel");
        };
    }

    @Override
    public String toString() {
        return "HandoverReceiver[from pid " + senderPid + ", " + sockets.size() + " sockets"
                + (closed ? ", closed" : "") + "]";
    }
}
