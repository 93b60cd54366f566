package dev.governor.runtime.systemd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A unix datagram socket as sd_notify uses one, by raw file descriptor: the JDK has no unix datagram
 * sockets and no abstract names, so the calls that make one and send on it are bound with the JDK's
 * FFM API in {@link Libc} (linked in milliseconds, where jnr's first call took ~450 ms on the path to
 * {@code READY=1}).
 */
final class UnixDatagram implements AutoCloseable {
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SO_RCVTIMEO = 20;

    private final int fd;

    private UnixDatagram(int fd) {
        this.fd = fd;
    }

    /** A new unix datagram socket, close-on-exec. */
    static UnixDatagram open() throws IOException {
        return new UnixDatagram(Libc.socket(Posix.AF_UNIX, Posix.SOCK_DGRAM | SOCK_CLOEXEC, 0));
    }

    int fd() {
        return fd;
    }

    void connect(UnixAddress address) throws IOException {
        Libc.connect(fd, address.sockaddr(), address.toString());
    }

    void bind(UnixAddress address) throws IOException {
        Libc.bind(fd, address.sockaddr(), address.toString());
    }

    /** Bounds every receive to {@code millis}, so a reader thread can notice it was closed. */
    void receiveTimeout(int millis) throws IOException {
        ByteBuffer timeval = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
        timeval.putLong(0, millis / 1000).putLong(8, (millis % 1000) * 1000L);
        Libc.setsockopt(fd, Posix.SOL_SOCKET, SO_RCVTIMEO, timeval.array(), "SO_RCVTIMEO");
    }

    /**
     * Sends one datagram on the connected socket, with {@code fds} as SCM_RIGHTS. Never blocks:
     * returns false when the receiver's queue is full (EAGAIN), throws on any other failure.
     */
    boolean send(byte[] payload, int... fds) throws IOException {
        try {
            Libc.sendmsg(fd, payload, fds, Posix.MSG_DONTWAIT | Posix.MSG_NOSIGNAL);
            return true;
        } catch (Libc.ErrnoException e) {
            if (e.errno() == Posix.EAGAIN) {
                return false;
            }
            throw e;
        }
    }

    /** A received datagram: its text and the descriptors that came with it. */
    record Datagram(String text, List<Integer> fds) {}

    /**
     * Receives one datagram, blocking up to the receive timeout; null on timeout. Blocks in native
     * code: call it from a platform thread.
     */
    Datagram receive(int maxBytes, int maxFds) throws IOException {
        Libc.Received r;
        try {
            r = Libc.recvmsg(fd, maxBytes, maxFds);
        } catch (Libc.ErrnoException e) {
            if (e.errno() == Posix.EAGAIN || e.errno() == Posix.EINTR) {
                return null;
            }
            throw e;
        }
        return new Datagram(new String(r.data(), StandardCharsets.UTF_8), r.fds());
    }

    @Override
    public void close() {
        Libc.close(fd);
    }

    @Override
    public String toString() {
        return "UnixDatagram[fd=" + fd + "]";
    }
}
