package dev.governor.runtime.systemd;

import dev.governor.runtime.internal.os.ErrnoException;
import dev.governor.runtime.internal.os.Libc;
import dev.governor.runtime.internal.os.LibcJni;
import dev.governor.runtime.internal.os.ProcessCalls;
import java.io.IOException;
import java.nio.channels.Channel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of systemd's notification socket, as {@code sd_notify(3)} describes it: each call sends
 * one datagram of newline-separated {@code KEY=VALUE} assignments to the socket named by
 * {@code NOTIFY_SOCKET} (an absolute path, or an abstract {@code @name}), with file descriptors
 * attached for {@code FDSTORE=1}.
 *
 * <p>When {@code NOTIFY_SOCKET} is unset every call is a no-op that returns false. A malformed value
 * (relative, too long, another transport) is logged once when read and disables the client. A send
 * that fails is logged once at WARN (later failures at DEBUG) and reported by the return value: it
 * never throws, so a supervisor tree is never stopped by systemd being away. Sends never block: a
 * full receive queue is retried briefly, then counted as a failure. Safe for concurrent use.
 */
public final class SdNotify {
    /**
     * Made on first use: {@link #linkAhead()} runs before the logging backend is set up, so that the
     * native calls link while it is (slf4j's start is ~20 ms cold).
     */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(SdNotify.class);
    }

    private static final int EAGAIN_RETRIES = 50;
    private static final long EAGAIN_PAUSE_NANOS = 2_000_000;

    private final UnixAddress address;
    private final String disabledBecause;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicBoolean failureLogged = new AtomicBoolean();
    private volatile String lastFailure;

    private SdNotify(UnixAddress address, String disabledBecause) {
        this.address = address;
        this.disabledBecause = disabledBecause;
    }

    /**
     * The process-wide client for this process's {@code NOTIFY_SOCKET} (read once); disabled when it
     * is unset or malformed.
     */
    public static SdNotify fromEnvironment() {
        return FromEnvironment.INSTANCE;
    }

    /** Reads the environment on first use only. */
    private static final class FromEnvironment {
        static final SdNotify INSTANCE = to(System.getenv("NOTIFY_SOCKET"));
    }

    /**
     * A client of the socket {@code notifySocket} (spelled as in {@code NOTIFY_SOCKET}); null or blank
     * gives a disabled client, a malformed value a disabled client and one WARN naming the problem.
     */
    public static SdNotify to(String notifySocket) {
        if (notifySocket == null || notifySocket.isBlank()) {
            return new SdNotify(null, "NOTIFY_SOCKET is not set");
        }
        try {
            return new SdNotify(new UnixAddress(notifySocket), null);
        } catch (IllegalArgumentException e) {
            String why = "NOTIFY_SOCKET=" + notifySocket + " is unusable: " + e.getMessage();
            Log.LOG.warn("{}; not notifying systemd (the services run as usual)", why);
            return new SdNotify(null, why);
        }
    }

    /**
     * When {@code NOTIFY_SOCKET} is set, links the native calls sends need on a background daemon
     * thread now (once per JVM), so that the first message, {@code READY=1} among them, does not
     * wait for it: the first FFM call of a JVM costs ~80 ms of CPU (~25 ms with an AOT cache),
     * which then overlaps with the services' start. The runtime calls this when a governor is
     * created; calling it again, or without {@code NOTIFY_SOCKET}, does nothing.
     */
    public static void linkAhead() {
        if (fromEnvironment().enabled()) {
            Libc.linkAheadForNotify();
        }
    }

    /** A client that sends nothing. */
    public static SdNotify disabled() {
        return new SdNotify(null, "disabled");
    }

    /** Whether messages are sent at all. */
    public boolean enabled() {
        return address != null;
    }

    /** The socket messages go to, as spelled in {@code NOTIFY_SOCKET}; empty when disabled. */
    public String socket() {
        return address == null ? "" : address.spelling();
    }

    /**
     * Sends {@code state}, one or more {@code KEY=VALUE} lines, with {@code fds} passed by SCM_RIGHTS.
     *
     * @return true if the datagram was sent; false when disabled or when sending failed (logged)
     * @throws IllegalArgumentException if {@code state} is blank
     */
    public boolean send(String state, int... fds) {
        Objects.requireNonNull(state, "state");
        if (state.isBlank()) {
            throw new IllegalArgumentException("state must hold at least one KEY=VALUE line, was \"" + state + "\"");
        }
        if (address == null) {
            return false;
        }
        try (Outlet out = outlet()) {
            byte[] payload = state.getBytes(StandardCharsets.UTF_8);
            for (int attempt = 0; attempt <= EAGAIN_RETRIES; attempt++) {
                if (out.send(payload, fds)) {
                    sent.incrementAndGet();
                    Log.LOG.debug("sd_notify {}: {}", address, state.replace('\n', ' '));
                    return true;
                }
                LockSupport.parkNanos(EAGAIN_PAUSE_NANOS);
            }
            throw new IOException("the receive queue stayed full (EAGAIN)");
        } catch (IOException | RuntimeException | LinkageError e) {
            fail(state, e);
            return false;
        }
    }

    /** Where one {@link #send}'s datagram and its retries go. */
    private interface Outlet extends AutoCloseable {
        /** One datagram; false when the receiver's queue is full (EAGAIN). */
        boolean send(byte[] payload, int[] fds) throws IOException;

        @Override
        void close();
    }

    /**
     * The runtime's JNI library when it is in use (each datagram one call on a fresh socket; its
     * first call costs milliseconds where the first FFM downcall costs ~85 ms, see {@link LibcJni}),
     * else a socket connected through the FFM binding, kept across the retries.
     */
    private Outlet outlet() throws IOException {
        if (LibcJni.available()) {
            byte[] sockaddr = address.sockaddr();
            return new Outlet() {
                @Override
                public boolean send(byte[] payload, int[] fds) throws IOException {
                    try {
                        LibcJni.send(sockaddr, address.toString(), payload, fds, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
                        return true;
                    } catch (ErrnoException e) {
                        if (e.errno() == Libc.EAGAIN) {
                            return false;
                        }
                        throw e;
                    }
                }

                @Override
                public void close() {}
            };
        }
        UnixDatagram socket = UnixDatagram.open();
        try {
            socket.connect(address);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        return new Outlet() {
            @Override
            public boolean send(byte[] payload, int[] fds) throws IOException {
                return socket.send(payload, fds);
            }

            @Override
            public void close() {
                socket.close();
            }
        };
    }

    private void fail(String state, Throwable e) {
        failed.incrementAndGet();
        lastFailure = e.getMessage();
        String first = state.lines().findFirst().orElse(state);
        if (failureLogged.compareAndSet(false, true)) {
            Log.LOG.warn(
                    "cannot notify systemd at NOTIFY_SOCKET={} ({}): {}; the services run as usual,"
                            + " further failures are logged at DEBUG",
                    address,
                    first,
                    e.toString());
        } else {
            Log.LOG.debug("cannot notify systemd at NOTIFY_SOCKET={} ({}): {}", address, first, e.toString());
        }
    }

    /** {@code READY=1}: start-up finished (or a reload did). */
    public boolean ready() {
        return send("READY=1");
    }

    /** {@code READY=1} with {@code STATUS=status}. */
    public boolean ready(String status) {
        return send("READY=1\nSTATUS=" + oneLine(status));
    }

    /** {@code STATUS=status}: a one-line, human-readable status shown by {@code systemctl status}. */
    public boolean status(String status) {
        return send("STATUS=" + oneLine(status));
    }

    /** {@code STOPPING=1}: shutdown began. */
    public boolean stopping() {
        return send("STOPPING=1");
    }

    /** {@code RELOADING=1} with {@code MONOTONIC_USEC} (required by Type=notify-reload); send {@link #ready()} after. */
    public boolean reloading() {
        return send("RELOADING=1\nMONOTONIC_USEC=" + ProcessCalls.monotonicMicros());
    }

    /** {@code WATCHDOG=1}: the keep-alive ping. */
    public boolean watchdog() {
        return send("WATCHDOG=1");
    }

    /**
     * {@code EXTEND_TIMEOUT_USEC}: the current start, run or stop timeout is extended so that the
     * next message is due within {@code within}.
     */
    public boolean extendTimeout(Duration within) {
        Objects.requireNonNull(within, "within");
        if (within.isNegative() || within.isZero()) {
            throw new IllegalArgumentException("within must be positive, was " + within);
        }
        return send("EXTEND_TIMEOUT_USEC=" + micros(within));
    }

    /** {@code MAINPID=pid}: the main process of the service is {@code pid}. */
    public boolean mainPid(long pid) {
        if (pid < 1) {
            throw new IllegalArgumentException("pid must be positive, was " + pid);
        }
        return send("MAINPID=" + pid);
    }

    /**
     * {@code FDSTORE=1} with {@code FDNAME=name}: systemd keeps {@code fds} open across a restart of the
     * service and passes them to the next process through {@code LISTEN_FDS} under the same name
     * (needs {@code FileDescriptorStoreMax=} in the unit).
     */
    public boolean fdStore(String name, int... fds) {
        checkFdName(name);
        if (fds.length == 0) {
            throw new IllegalArgumentException("fdStore(\"" + name + "\") needs at least one fd");
        }
        return send("FDSTORE=1\nFDNAME=" + name, fds);
    }

    /** {@link #fdStore(String, int...)} for a JDK channel; see {@link FdChannels#fd(Channel)}. */
    public boolean fdStore(String name, Channel channel) {
        checkFdName(name);
        if (!enabled()) {
            return false;
        }
        return fdStore(name, FdChannels.fd(channel));
    }

    /** {@code FDSTOREREMOVE=1} with {@code FDNAME=name}: systemd closes the stored fds of that name. */
    public boolean fdStoreRemove(String name) {
        checkFdName(name);
        return send("FDSTOREREMOVE=1\nFDNAME=" + name);
    }

    /** Datagrams sent so far. */
    public long sent() {
        return sent.get();
    }

    /** Sends that failed so far. */
    public long failed() {
        return failed.get();
    }

    /**
     * Checks a name for {@code FDNAME=} / {@code LISTEN_FDNAMES}: at most 255 printable ASCII
     * characters, no colon (systemd's own rule, {@code fdname_is_valid}).
     */
    static void checkFdName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.length() > 255) {
            throw new IllegalArgumentException("fd name \"" + name + "\" must be 1 to 255 characters long");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x21 || c > 0x7e || c == ':') {
                throw new IllegalArgumentException("fd name \"" + name
                        + "\" must be printable ASCII without spaces or ':', has " + String.format("U+%04X", (int) c));
            }
        }
    }

    private static String oneLine(String status) {
        Objects.requireNonNull(status, "status");
        return status.replace('\n', ' ');
    }

    static long micros(Duration d) {
        return d.toNanos() / 1_000;
    }

    @Override
    public String toString() {
        return address == null
                ? "SdNotify[disabled: " + disabledBecause + "]"
                : "SdNotify[socket=" + address + ", sent=" + sent + ", failed=" + failed
                        + (lastFailure == null ? "" : ", lastFailure=" + lastFailure) + "]";
    }
}
