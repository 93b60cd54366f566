package dev.governor.runtime.systemd;

import dev.governor.runtime.internal.os.ErrnoException;
import dev.governor.runtime.internal.os.Libc;
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
    private final int fd;

    private UnixDatagram(int fd) {
        this.fd = fd;
    }

    /** A new unix datagram socket, close-on-exec. */
    static UnixDatagram open() throws IOException {
        return new UnixDatagram(Libc.socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0));
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
        Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_RCVTIMEO, timeval.array(), "SO_RCVTIMEO");
    }

    /**
     * Sends one datagram on the connected socket, with {@code fds} as SCM_RIGHTS. Never blocks:
     * returns false when the receiver's queue is full (EAGAIN), throws on any other failure.
     */
    boolean send(byte[] payload, int... fds) throws IOException {
        try {
            Libc.sendmsg(fd, payload, 0, payload.length, fds, Libc.MSG_DONTWAIT | Libc.MSG_NOSIGNAL);
            return true;
        } catch (ErrnoException e) {
            if (e.errno() == Libc.EAGAIN) {
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
            r = Libc.recvmsg(fd, maxBytes, maxFds, 0);
        } catch (ErrnoException e) {
            if (e.errno() == Libc.EAGAIN || e.errno() == Libc.EINTR) {
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
