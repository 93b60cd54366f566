package dev.governor.runtime.systemd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.annotations.In;
import jnr.posix.CmsgHdr;
import jnr.posix.MsgHdr;
import jnr.posix.POSIXFactory;

/**
 * A unix datagram socket as sd_notify uses one, by raw file descriptor: the JDK has no unix datagram
 * sockets and no abstract names, and jnr-unixsocket does not connect datagram sockets, so the three
 * calls that make one are bound here with jnr-ffi and the messages go out with jnr-posix's
 * {@code sendmsg}. Buffers handed to native code are direct (heap buffers make the kernel answer
 * EFAULT).
 */
final class UnixDatagram implements AutoCloseable {
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SO_RCVTIMEO = 20;

    /** The libc calls jnr-posix lacks. Public only because jnr-ffi generates its implementation elsewhere. */
    public interface Calls {
        int socket(int domain, int type, int protocol);

        int connect(int fd, @In byte[] address, int length);

        int bind(int fd, @In byte[] address, int length);
    }

    /** Binds the calls on first use only. */
    private static final class Holder {
        static final Calls CALLS = LibraryLoader.create(Calls.class).load(POSIXFactory.STANDARD_C_LIBRARY_NAME);
    }

    private final int fd;

    private UnixDatagram(int fd) {
        this.fd = fd;
    }

    private static Calls calls() {
        return Holder.CALLS;
    }

    /** A new unix datagram socket, close-on-exec. */
    static UnixDatagram open() throws IOException {
        int fd = calls().socket(Posix.AF_UNIX, Posix.SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            throw new IOException("socket(AF_UNIX, SOCK_DGRAM) failed: " + Posix.lastError());
        }
        return new UnixDatagram(fd);
    }

    int fd() {
        return fd;
    }

    void connect(UnixAddress address) throws IOException {
        byte[] sockaddr = address.sockaddr();
        if (calls().connect(fd, sockaddr, sockaddr.length) != 0) {
            throw new IOException("connect(" + address + ") failed: " + Posix.lastError());
        }
    }

    void bind(UnixAddress address) throws IOException {
        byte[] sockaddr = address.sockaddr();
        if (calls().bind(fd, sockaddr, sockaddr.length) != 0) {
            throw new IOException("bind(" + address + ") failed: " + Posix.lastError());
        }
    }

    /** Bounds every receive to {@code millis}, so a reader thread can notice it was closed. */
    void receiveTimeout(int millis) throws IOException {
        ByteBuffer timeval = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder());
        timeval.putLong(0, millis / 1000).putLong(8, (millis % 1000) * 1000L);
        if (Posix.posix().libc().setsockopt(fd, Posix.SOL_SOCKET, SO_RCVTIMEO, timeval, 16) != 0) {
            throw new IOException("setsockopt(SO_RCVTIMEO) failed: " + Posix.lastError());
        }
    }

    /**
     * Sends one datagram on the connected socket, with {@code fds} as SCM_RIGHTS. Never blocks:
     * returns false when the receiver's queue is full (EAGAIN), throws on any other failure.
     */
    boolean send(byte[] payload, int... fds) throws IOException {
        MsgHdr msg = Posix.posix().allocateMsgHdr();
        ByteBuffer data = ByteBuffer.allocateDirect(payload.length);
        data.put(payload).flip();
        msg.setIov(new ByteBuffer[] {data});
        if (fds.length > 0) {
            CmsgHdr control = msg.allocateControl(4 * fds.length);
            control.setLevel(Posix.SOL_SOCKET);
            control.setType(Posix.SCM_RIGHTS);
            ByteBuffer fdData = ByteBuffer.allocateDirect(4 * fds.length).order(ByteOrder.nativeOrder());
            for (int f : fds) {
                fdData.putInt(f);
            }
            fdData.flip();
            control.setData(fdData);
        }
        int sent = Posix.posix().sendmsg(fd, msg, Posix.MSG_DONTWAIT | Posix.MSG_NOSIGNAL);
        if (sent < 0) {
            int errno = Posix.posix().errno();
            if (errno == Posix.EAGAIN) {
                return false;
            }
            throw new IOException(Posix.posix().strerror(errno) + " (errno " + errno + ")");
        }
        return true;
    }

    /** A received datagram: its text and the descriptors that came with it. */
    record Datagram(String text, List<Integer> fds) {}

    /**
     * Receives one datagram, blocking up to the receive timeout; null on timeout. Blocks in native
     * code: call it from a platform thread.
     */
    Datagram receive(int maxBytes, int maxFds) throws IOException {
        MsgHdr msg = Posix.posix().allocateMsgHdr();
        ByteBuffer data = ByteBuffer.allocateDirect(maxBytes);
        msg.setIov(new ByteBuffer[] {data});
        msg.allocateControl(4 * maxFds);
        int n = Posix.posix().recvmsg(fd, msg, 0);
        if (n < 0) {
            int errno = Posix.posix().errno();
            if (errno == Posix.EAGAIN || errno == Posix.EINTR) {
                return null;
            }
            throw new IOException("recvmsg failed: " + Posix.posix().strerror(errno) + " (errno " + errno + ")");
        }
        byte[] bytes = new byte[n];
        data.get(0, bytes);
        List<Integer> fds = new ArrayList<>();
        for (CmsgHdr c : msg.getControls()) {
            if (c.getLevel() == Posix.SOL_SOCKET && c.getType() == Posix.SCM_RIGHTS) {
                ByteBuffer b = c.getData().order(ByteOrder.nativeOrder());
                while (b.remaining() >= 4) {
                    fds.add(b.getInt());
                }
            }
        }
        return new Datagram(new String(bytes, StandardCharsets.UTF_8), List.copyOf(fds));
    }

    @Override
    public void close() {
        Posix.close(fd);
    }

    @Override
    public String toString() {
        return "UnixDatagram[fd=" + fd + "]";
    }
}
