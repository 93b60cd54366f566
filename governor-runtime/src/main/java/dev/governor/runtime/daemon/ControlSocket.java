package dev.governor.runtime.daemon;

import dev.governor.Governor;
import dev.governor.Service;
import dev.governor.ServiceConfig;
import dev.governor.ServiceCtx;
import dev.governor.Stoppable;
import dev.governor.runtime.internal.os.ErrnoException;
import dev.governor.runtime.internal.os.ProcessCalls;
import dev.governor.runtime.upgrade.OwnSockets;
import dev.governor.runtime.upgrade.Takeover;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A unix-domain control socket for a running governor, itself a governed {@link Service}: it
 * starts in order, is ready once it listens, and stops in order with the tree.
 *
 * <pre>{@code
 * ControlSocket.at(Path.of("/run/app/control.sock")).addTo(gov);   // adds the child "control"
 * }</pre>
 *
 * <p><b>Who may connect.</b> The socket file has mode 0600, and the uid of every peer is checked
 * with {@code SO_PEERCRED} (the kernel's word, not the client's): only the daemon's own uid, root,
 * and uids given to {@link #allowUid(int)} are served; anyone else gets one error answer and the
 * connection is closed.
 *
 * <p><b>Protocol.</b> One command per line (UTF-8, {@code \n}), one JSON object per answer line:
 * {@code status}, {@code restart NAME}, {@code stop NAME}, {@code start NAME}, {@code reload},
 * {@code shutdown [TIMEOUT]}, {@code help}. Every answer has {@code "ok"}; a failed one an
 * {@code "error"} sentence. Unknown commands and names, garbage and lines longer than
 * {@link #maxLineBytes(int)} (4096 bytes by default; the rest of such a line is read and dropped)
 * get an error answer; the connection stays open and the tree is untouched. A connection that sends
 * nothing for {@link #idleTimeout(java.time.Duration)} (30 s by default) is closed, so idle clients
 * cannot hold the {@link #MAX_CONNECTIONS} slots; an error of {@code accept} (out of descriptors,
 * say) is logged and retried, never the end of the service.
 *
 * <p>A stale socket file left by a killed process is replaced; one that still answers belongs to
 * a running process, and {@code run} fails with a message saying so.
 */
public final class ControlSocket implements Service, Stoppable {
    /** Default cap of one command line, in bytes. */
    public static final int DEFAULT_MAX_LINE = 4096;
    /** Connections served at once; more are answered with an error and closed. */
    public static final int MAX_CONNECTIONS = 32;

    private static final Logger LOG = LoggerFactory.getLogger(ControlSocket.class);
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final java.time.Duration REFUSAL_DRAIN = java.time.Duration.ofSeconds(2);
    /** Default time a connection may sit without sending a command before it is closed. */
    public static final java.time.Duration DEFAULT_IDLE_TIMEOUT = java.time.Duration.ofSeconds(30);

    private static final java.time.Duration ACCEPT_RETRY = java.time.Duration.ofMillis(100);

    private final Path path;
    private final Set<Long> allowedUids = new TreeSet<>();
    private int maxLineBytes = DEFAULT_MAX_LINE;
    private java.time.Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private volatile Governor gov;
    private volatile ServerSocketChannel server;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final java.util.Map<SocketChannel, LineReader.Activity> activity = new ConcurrentHashMap<>();
    private final AtomicLong idleClosed = new AtomicLong();
    private final AtomicLong acceptErrors = new AtomicLong();

    private final AtomicLong served = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();

    private ControlSocket(Path path) {
        this.path = path;
    }

    /** A control socket that will listen at {@code path} (at most 107 bytes, the kernel's limit). */
    public static ControlSocket at(Path path) {
        Objects.requireNonNull(path, "path");
        Path abs = path.toAbsolutePath().normalize();
        int len = abs.toString().getBytes(StandardCharsets.UTF_8).length;
        if (len > 107) {
            throw new IllegalArgumentException(
                    "control socket path " + abs + " is " + len + " bytes; unix sockets allow at most 107");
        }
        return new ControlSocket(abs);
    }

    /** Also serve this uid (the daemon's own uid and root always are). */
    public ControlSocket allowUid(int uid) {
        if (uid < 0) {
            throw new IllegalArgumentException("uid must be >= 0, was " + uid);
        }
        allowedUids.add((long) uid);
        return this;
    }

    /** Cap of one command line in bytes, 64 to 1 MiB; 4096 by default. */
    public ControlSocket maxLineBytes(int max) {
        if (max < 64 || max > 1 << 20) {
            throw new IllegalArgumentException("maxLineBytes must be within 64 and 1048576, was " + max);
        }
        this.maxLineBytes = max;
        return this;
    }

    /**
     * How long a connection may sit without sending a command (or the rest of one) before it is
     * closed; 30 s by default, 100 ms to 1 h. Idle clients cannot hold the connection slots.
     */
    public ControlSocket idleTimeout(java.time.Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.compareTo(java.time.Duration.ofMillis(100)) < 0
                || timeout.compareTo(java.time.Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException("idleTimeout must be within 100 ms and 1 h, was " + timeout);
        }
        this.idleTimeout = timeout;
        return this;
    }

    /**
     * Adds this socket to {@code gov} as the child {@code "control"}, ready once it listens. (The one
     * verb for attaching a component, as {@code GovernorEndpoint.addTo}; it takes the governor itself
     * because the socket commands it.)
     */
    public ServiceConfig addTo(Governor gov) {
        return addTo(gov, "control");
    }

    /** Adds this socket to {@code gov} as the child {@code name}, ready once it listens. */
    public ServiceConfig addTo(Governor gov, String name) {
        Objects.requireNonNull(gov, "gov");
        if (this.gov != null) {
            throw new IllegalStateException(this + " is already added to " + this.gov);
        }
        this.gov = gov;
        return gov.add(name, this).readyOnStart(false);
    }

    public Path path() {
        return path;
    }

    @Override
    public void run(ServiceCtx ctx) throws Exception {
        Governor g = gov;
        if (g == null) {
            throw new IllegalStateException(this + " was added without addTo(gov): it needs the governor to command");
        }
        ControlCommands commands = new ControlCommands(g, ctx.name());
        Set<Long> allowed = new TreeSet<>(allowedUids);
        allowed.add(ProcessCalls.geteuid());
        allowed.add(0L);
        String handoverName = "governor-control-socket/" + ctx.name();
        ServerSocketChannel inherited =
                OwnSockets.inherited(handoverName); // an upgrade: the same socket, already at path
        ServerSocketChannel ch = inherited != null ? inherited : bind();
        OwnSockets.add(g, handoverName, ch);
        server = ch;
        Object key = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                .fileKey();
        ctx.log().info("control socket listening at {} (mode 0600, uids {})", path, allowed);
        ctx.markReady();
        Thread reaper = Thread.ofVirtual().name(ctx.name() + "-idle").start(this::closeIdle);
        if (inherited != null) {
            Takeover.awaitCommit(ctx); // handed over: the old process answers until this one has taken over
        }
        try {
            long lastLogged = 0;
            while (!ctx.stopping()) {
                SocketChannel conn;
                try {
                    conn = ch.accept();
                } catch (ClosedChannelException e) {
                    throw e;
                } catch (IOException e) { // out of descriptors, say: logged and retried, never the end of the service
                    acceptErrors.incrementAndGet();
                    long now = System.nanoTime();
                    if (now - lastLogged > 1_000_000_000L) {
                        lastLogged = now;
                        LOG.warn(
                                "control socket {}: accept failed ({}); retrying (errors so far: {})",
                                path,
                                e.toString(),
                                acceptErrors.get());
                    }
                    try {
                        Thread.sleep(ACCEPT_RETRY); // not ctx.sleep: out of descriptors, no class may need loading here
                    } catch (InterruptedException stopping) {
                        break; // a stop interrupts the accepting thread
                    }
                    continue;
                }
                Thread.ofVirtual().name(ctx.name() + "-conn").start(() -> serve(conn, commands, allowed));
            }
        } catch (ClosedChannelException e) {
            if (!ctx.stopping()) {
                throw e;
            }
        } finally {
            reaper.interrupt();
            OwnSockets.remove(g, handoverName);
            ch.close();
            connections.forEach(ControlSocket::closeQuietly);
            try {
                // the file is another process's when this one handed the socket over, or inherited it and never took
                // over
                boolean ours = !OwnSockets.handedOver() && (inherited == null || Takeover.committed());
                if (ours
                        && key.equals(Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                                .fileKey())) {
                    Files.delete(path);
                }
            } catch (IOException gone) {
                // already removed
            }
        }
    }

    @Override
    public void stop() {
        ServerSocketChannel ch = server;
        if (ch != null) {
            closeQuietly(ch);
        }
    }

    /** Binds under a temporary name, sets mode 0600, then renames into place: never reachable at a looser mode. */
    private ServerSocketChannel bind() throws IOException {
        Files.createDirectories(path.getParent());
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if ((mode & S_IFMT) != S_IFSOCK) {
                throw new IllegalStateException(
                        "control socket path " + path + " exists and is not a socket; refusing to replace it");
            }
            boolean answers;
            try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
                answers = probe.isConnected();
            } catch (IOException refused) {
                answers = false; // nobody listens: stale, replace it
            }
            if (answers) {
                throw new IllegalStateException("control socket " + path + " answers: another process is using it");
            }
        }
        Path tmp = path.resolveSibling(
                "." + path.getFileName() + "." + ProcessHandle.current().pid());
        Files.deleteIfExists(tmp);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(tmp), 16);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return ch;
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** Closes connections that sent nothing for {@link #idleTimeout}, unless a command of theirs is being answered. */
    private void closeIdle() {
        while (true) {
            try {
                Thread.sleep(Math.max(50, Math.min(1000, idleTimeout.toMillis() / 4)));
            } catch (InterruptedException stop) {
                return;
            }
            long limit = idleTimeout.toNanos();
            long now = System.nanoTime();
            activity.forEach((conn, a) -> {
                if (!a.busy && now - a.lastNanos > limit) {
                    idleClosed.incrementAndGet();
                    closeQuietly(conn);
                }
            });
        }
    }

    private void serve(SocketChannel conn, ControlCommands commands, Set<Long> allowed) {
        connections.add(conn);
        LineReader.Activity act = new LineReader.Activity();
        activity.put(conn, act);
        try (conn) {
            long uid = peerUid(conn);
            if (!allowed.contains(uid)) {
                refused.incrementAndGet();
                LOG.warn("control socket {}: refused a connection from uid {}", path, describeUid(uid));
                refuse(
                        conn,
                        ControlCommands.error("permission denied: uid " + describeUid(uid)
                                + " may not use this control socket" + " (allowed uids " + allowed + ")"));
                return;
            }
            if (connections.size() > MAX_CONNECTIONS) {
                refuse(
                        conn,
                        ControlCommands.error(
                                "too many connections (more than " + MAX_CONNECTIONS + "); try again later"));
                return;
            }
            served.incrementAndGet();
            LineReader lines = new LineReader(conn, maxLineBytes, act);
            for (LineReader.Line line; (line = lines.next()) != null; ) {
                act.busy = true;
                ControlCommands.Answer answer = line.overlong()
                        ? new ControlCommands.Answer(ControlCommands.error("line of " + line.bytes()
                                + " bytes is longer than the limit of " + maxLineBytes + " bytes"))
                        : commands.answer(line.text());
                send(conn, answer.json());
                answer.afterSent().run();
                act.lastNanos = System.nanoTime();
                act.busy = false;
            }
        } catch (IOException e) {
            // the client went away, or we are stopping
        } catch (RuntimeException e) {
            LOG.warn("control socket {}: connection ended by {}", path, e.toString(), e);
        } finally {
            connections.remove(conn);
            activity.remove(conn);
        }
    }

    /** The peer's uid from SO_PEERCRED; -1 (never allowed) if it cannot be told. */
    private static long peerUid(SocketChannel conn) throws IOException {
        UnixDomainPrincipal peer = conn.getOption(ExtendedSocketOptions.SO_PEERCRED);
        String name = peer.user().getName();
        if (name.chars().allMatch(Character::isDigit) && !name.isEmpty()) {
            return Long.parseLong(name); // no passwd entry: the JDK names the user by its uid
        }
        try {
            return ProcessCalls.uidOf(name); // -1 when the name has no passwd entry
        } catch (ErrnoException e) {
            return -1;
        }
    }

    /** A uid as {@code 65534 (nobody)}, or just the number when it has no name. */
    private static String describeUid(long uid) {
        try {
            String name = ProcessCalls.userName(uid);
            return name == null ? Long.toString(uid) : uid + " (" + name + ")";
        } catch (ErrnoException | RuntimeException e) {
            return Long.toString(uid);
        }
    }

    /**
     * Answers once and ends the connection so that the client reads the answer: a unix socket closed
     * with unread input resets the connection, and the client would see ECONNRESET instead of the
     * reason. So: answer, half-close, drain the client's input (at most 64 KiB, at most 2 s), close.
     */
    private static void refuse(SocketChannel conn, String answer) throws IOException {
        send(conn, answer);
        conn.shutdownOutput();
        Thread closer = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(REFUSAL_DRAIN);
            } catch (InterruptedException drained) {
                return;
            }
            closeQuietly(conn);
        });
        ByteBuffer sink = ByteBuffer.allocate(8192);
        long drained = 0;
        try {
            for (int n; drained < 65536 && (n = conn.read(sink)) >= 0; drained += n) {
                sink.clear();
            }
        } catch (IOException closed) {
            // the closer ran out of patience, or the client reset
        } finally {
            closer.interrupt();
        }
    }

    private static void send(SocketChannel conn, String answer) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap((answer + "\n").getBytes(StandardCharsets.UTF_8));
        while (buf.hasRemaining()) {
            conn.write(buf);
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** Accept errors met so far (each logged, at most once a second, and retried). */
    long acceptErrors() {
        return acceptErrors.get();
    }

    @Override
    public String toString() {
        return "ControlSocket[" + path + (server != null && server.isOpen() ? ", listening" : "") + ", connections="
                + connections.size()
                + ", served=" + served.get() + ", refused=" + refused.get() + ", idleClosed=" + idleClosed.get()
                + ", acceptErrors=" + acceptErrors.get() + "]";
    }
}
