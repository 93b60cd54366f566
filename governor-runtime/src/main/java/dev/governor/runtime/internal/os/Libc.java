package dev.governor.runtime.internal.os;

import static dev.governor.runtime.internal.os.Downcalls.call;
import static dev.governor.runtime.internal.os.Downcalls.check;
import static dev.governor.runtime.internal.os.Downcalls.errno;
import static dev.governor.runtime.internal.os.Downcalls.i;
import static dev.governor.runtime.internal.os.Downcalls.state;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.governor.runtime.internal.os.Downcalls.Fn;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The runtime's binding to libc: every native call Governor makes (sd_notify, socket activation,
 * the handover, descriptors; the daemon's process calls are in {@link ProcessCalls}), through the
 * JDK's FFM API ({@code java.lang.foreign}), except the few on the way to {@code READY=1}
 * ({@code fcntl}, {@code dup}, an int {@code getsockopt}, {@code close}, and sd_notify's send),
 * which go through the runtime's JNI library when it is in use ({@link LibcJni}): a JVM's first
 * FFM downcall costs ~85 ms cold. Internal: not part of the API.
 *
 * <p><b>Errors.</b> A call that fails throws {@link ErrnoException}, naming the call and its
 * arguments, {@code errno} and {@code strerror(errno)}. Callers that expect an errno (EAGAIN from a
 * non-blocking send) ask {@link ErrnoException#errno()}.
 *
 * <p><b>Linking.</b> Each function is linked on its first call and never before ({@link Fn}):
 * without the JNI library, a daemon that only sends {@code READY=1} links socket, connect, sendmsg
 * and close. jnr's first call generated classes for ~450 ms on the path to {@code READY=1}; a link
 * here is a symbol lookup once the shared stub exists.
 *
 * <p><b>Threads.</b> Every call returns at once except {@link #poll} (waits up to its timeout) and
 * {@link #recvmsg} without {@link #MSG_DONTWAIT}; those block a carrier thread, so call them from
 * platform threads. The passwd lookups may read files (NSS); they are made where the JDK has just
 * made the same lookup on the same thread.
 *
 * <p>Structures are laid out as on 64-bit Linux (x86-64 and aarch64 agree); on any other platform
 * the first call throws {@link UnsupportedOperationException} naming it.
 */
public final class Libc {
    public static final int SOL_SOCKET = 1;
    public static final int SO_TYPE = 3;
    public static final int SO_PEERCRED = 17;
    public static final int SO_RCVTIMEO = 20;
    public static final int SO_ACCEPTCONN = 30;
    public static final int SO_DOMAIN = 39;
    public static final int SCM_RIGHTS = 1;
    public static final int AF_UNIX = 1;
    public static final int AF_INET = 2;
    public static final int AF_INET6 = 10;
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_DGRAM = 2;
    public static final int SOCK_CLOEXEC = 0x80000;
    public static final int MSG_CTRUNC = 0x8;
    public static final int MSG_DONTWAIT = 0x40;
    public static final int MSG_NOSIGNAL = 0x4000;
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    public static final int FD_CLOEXEC = 1;
    public static final int F_GETFD = 1;
    public static final int F_SETFD = 2;
    public static final int F_GETFL = 3;
    public static final int F_SETFL = 4;
    public static final int F_DUPFD = 0;
    public static final int F_DUPFD_CLOEXEC = 1030;
    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int POLLIN = 0x1;
    public static final int POLLOUT = 0x4;
    public static final int EINTR = 4;
    public static final int EBADF = 9;
    public static final int EAGAIN = 11;
    public static final int ENOTSOCK = 88;
    /** {@code sizeof(sockaddr_un.sun_path)} on Linux. */
    public static final int SUN_PATH_MAX = 108;
    /** The kernel's cap on descriptors in one SCM_RIGHTS message ({@code SCM_MAX_FD}). */
    public static final int SCM_MAX_FD = 253;

    private Libc() {}

    private static final AtomicBoolean LINKING_AHEAD = new AtomicBoolean();

    /**
     * Makes sd_notify's first send cheap, on a background daemon thread, once per JVM. Where the
     * runtime's JNI library is in use ({@link LibcJni}), that is loading it (~3 ms). Otherwise it runs
     * the FFM calls of a send once: linking the shared stub, and the first pass through the FFM code
     * of a call (arenas, segments, the {@code msghdr} and its {@code SCM_RIGHTS} header, errno and
     * its text), which on a cold JVM costs as much again (~90 ms of the path to {@code READY=1} in
     * the sample). Those calls are real but reach no one: {@code sendmsg} on a datagram socket that
     * is not connected fails (ENOTCONN or EDESTADDRREQ) before anything is sent, and {@code connect}
     * to an address without a path fails with EINVAL.
     */
    public static void linkAheadForNotify() {
        if (LINKING_AHEAD.compareAndSet(false, true)) {
            Thread.ofPlatform().daemon().name("governor-notify-link").start(Libc::rehearseNotify);
        }
    }

    /** Loads the JNI library sends use ({@link LibcJni}); without it, rehearses the FFM calls. */
    private static void rehearseNotify() {
        if (LibcJni.available()) {
            return;
        }
        try {
            rehearsal();
        } catch (IOException | RuntimeException | LinkageError e) {
            // the first real call reports it
        }
    }

    /**
     * The calls of {@link #linkAheadForNotify()}: the errnos they end with (sendmsg without fds, with
     * one, connect), then the socket's descriptor, closed by then.
     */
    static int[] rehearsal() throws IOException {
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int[] outcome = {0, 0, 0, fd};
        try {
            byte[] payload = {'X'};
            try { // READY=1's calls first, the fd store's last
                sendmsg(fd, payload, 0, payload.length, new int[0], MSG_DONTWAIT | MSG_NOSIGNAL);
            } catch (ErrnoException expected) { // not connected: nothing was sent
                outcome[0] = expected.errno();
            }
            try {
                connect(fd, new byte[] {AF_UNIX, 0}, "no address");
            } catch (ErrnoException expected) { // EINVAL: a unix address needs a path or a name
                outcome[2] = expected.errno();
            }
            try {
                sendmsg(fd, payload, 0, payload.length, new int[] {fd}, MSG_DONTWAIT | MSG_NOSIGNAL);
            } catch (ErrnoException expected) {
                outcome[1] = expected.errno();
            }
        } finally {
            close(fd);
        }
        return outcome;
    }

    // ---- sockets

    public static int socket(int domain, int type, int protocol) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            return check(
                    "socket(" + domain + ", " + type + ")",
                    i(call(Fn.SOCKET, state, domain, type, protocol, 0, 0)),
                    state);
        }
    }

    /** {@code connect(fd, sockaddr)}; {@code what} names the address in the error. */
    public static void connect(int fd, byte[] sockaddr, String what) throws ErrnoException {
        withAddress(Fn.CONNECT, "connect", fd, sockaddr, what);
    }

    /** {@code bind(fd, sockaddr)}; {@code what} names the address in the error. */
    public static void bind(int fd, byte[] sockaddr, String what) throws ErrnoException {
        withAddress(Fn.BIND, "bind", fd, sockaddr, what);
    }

    /** connect and bind: the same call shape, {@code (fd, sockaddr*, socklen_t)}. */
    private static void withAddress(Fn fn, String name, int fd, byte[] sockaddr, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment addr = arena.allocateFrom(JAVA_BYTE, sockaddr);
            check(
                    name + "(fd " + fd + ", " + what + ")",
                    i(call(fn, state, fd, addr.address(), sockaddr.length, 0, 0)),
                    state);
        }
    }

    /**
     * {@code sendmsg(fd, data[offset, offset + length), flags)} with {@code fds} attached as
     * SCM_RIGHTS; the bytes sent (a stream socket may take fewer). EAGAIN is thrown like any errno,
     * for the caller to wait or give up.
     */
    public static long sendmsg(int fd, byte[] data, int offset, int length, int[] fds, int flags)
            throws ErrnoException {
        return Msghdr.send(fd, data, offset, length, fds, flags);
    }

    /** A message received: its bytes, the descriptors passed with it, and whether control data was cut ({@code MSG_CTRUNC}). */
    public record Received(byte[] data, List<Integer> fds, boolean truncated) {}

    /**
     * One {@code recvmsg(fd, ..., flags)} of at most {@code maxBytes} and {@code maxFds} descriptors.
     * Blocks unless {@code flags} has {@link #MSG_DONTWAIT}; EAGAIN is thrown like any errno.
     */
    public static Received recvmsg(int fd, int maxBytes, int maxFds, int flags) throws ErrnoException {
        return Msghdr.receive(fd, maxBytes, maxFds, flags);
    }

    /**
     * Waits up to {@code millis} for {@code events} on {@code fd}: true when one is pending (or an
     * error or hangup), false on timeout or EINTR. Blocks: call it from a platform thread.
     */
    public static boolean poll(int fd, int events, int millis) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment pollfd = arena.allocate(8, 4);
            pollfd.set(JAVA_INT, 0, fd);
            pollfd.set(JAVA_SHORT, 4, (short) events);
            int n = i(call(Fn.POLL, state, pollfd.address(), 1, millis, 0, 0));
            if (n < 0) {
                int errno = errno(state);
                if (errno == EINTR) {
                    return false;
                }
                throw new ErrnoException("poll(fd " + fd + ", events " + events + ")", errno);
            }
            return n > 0;
        }
    }

    public static void setsockopt(int fd, int level, int option, byte[] value, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment v = arena.allocateFrom(JAVA_BYTE, value);
            check(
                    "setsockopt(fd " + fd + ", " + what + ")",
                    i(call(Fn.SETSOCKOPT, state, fd, level, option, v.address(), value.length)),
                    state);
        }
    }

    /** One int-valued {@code SOL_SOCKET} option of {@code fd}; ENOTSOCK for a descriptor that is no socket. */
    public static int socketOption(int fd, int option) throws ErrnoException {
        String call = "getsockopt(fd " + fd + ", SOL_SOCKET, " + option + ")";
        if (LibcJni.available()) {
            return LibcJni.socketOption(fd, option, call);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment value = arena.allocate(JAVA_INT);
            MemorySegment length = arena.allocateFrom(JAVA_INT, 4);
            int rc = i(call(Fn.GETSOCKOPT, state, fd, SOL_SOCKET, option, value.address(), length.address()));
            check(call, rc, state);
            return value.get(JAVA_INT, 0);
        }
    }

    /** Whether {@code fd} is an open socket (getsockopt answers ENOTSOCK for anything else, EBADF for a closed fd). */
    public static boolean isSocket(int fd) {
        try {
            socketOption(fd, SO_TYPE);
            return true;
        } catch (ErrnoException e) {
            return false;
        }
    }

    /** The peer's {@code {pid, uid, gid}} of a connected unix socket ({@code SO_PEERCRED}). */
    public static int[] peerCredentials(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment value = arena.allocate(12, 4);
            MemorySegment length = arena.allocateFrom(JAVA_INT, 12);
            int rc = i(call(Fn.GETSOCKOPT, state, fd, SOL_SOCKET, SO_PEERCRED, value.address(), length.address()));
            check("getsockopt(fd " + fd + ", SO_PEERCRED)", rc, state);
            return new int[] {value.get(JAVA_INT, 0), value.get(JAVA_INT, 4), value.get(JAVA_INT, 8)};
        }
    }

    /** Where {@code fd} is bound ({@code getsockname}): an inet or unix address; null for another family. */
    public static SocketAddress localAddress(int fd) throws IOException {
        byte[] addr;
        int length;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment sockaddr = arena.allocate(128, 8);
            MemorySegment len = arena.allocateFrom(JAVA_INT, 128);
            check(
                    "getsockname(fd " + fd + ")",
                    i(call(Fn.GETSOCKNAME, state, fd, sockaddr.address(), len.address(), 0, 0)),
                    state);
            length = Math.min(128, len.get(JAVA_INT, 0));
            addr = sockaddr.toArray(JAVA_BYTE);
        }
        MemorySegment a = MemorySegment.ofArray(addr);
        int family = Short.toUnsignedInt(a.get(JAVA_SHORT.withByteAlignment(1), 0));
        int port = Short.toUnsignedInt(a.get(JAVA_SHORT.withByteAlignment(1).withOrder(ByteOrder.BIG_ENDIAN), 2));
        return switch (family) {
            case AF_INET ->
                new InetSocketAddress(InetAddress.getByAddress(java.util.Arrays.copyOfRange(addr, 4, 8)), port);
            case AF_INET6 ->
                new InetSocketAddress(InetAddress.getByAddress(java.util.Arrays.copyOfRange(addr, 8, 24)), port);
            case AF_UNIX -> {
                int end = 2;
                while (end < length && addr[end] != 0) {
                    end++;
                }
                yield UnixDomainSocketAddress.of(new String(addr, 2, end - 2, StandardCharsets.UTF_8));
            }
            default -> null;
        };
    }

    // ---- descriptors

    /** Closes {@code fd}, ignoring errors (every caller is a cleanup path, and a failed close leaves nothing to do). */
    public static void close(int fd) {
        if (LibcJni.available()) {
            LibcJni.close(fd);
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            call(Fn.CLOSE, state(arena), fd, 0, 0, 0, 0);
        }
    }

    public static void closeAll(List<Integer> fds) {
        for (int fd : fds) {
            close(fd);
        }
    }

    /** {@code dup(fd)}: the lowest free descriptor, without close-on-exec. */
    public static int dup(int fd) throws ErrnoException {
        String call = "dup(" + fd + ")";
        if (LibcJni.available()) { // dup(fd) is fcntl(fd, F_DUPFD, 0)
            return LibcJni.fcntl(fd, F_DUPFD, 0, call);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            return check(call, i(call(Fn.DUP, state, fd, 0, 0, 0, 0)), state);
        }
    }

    /** A new descriptor for the same open file as {@code fd}, close-on-exec from birth, numbered 3 or above. */
    public static int dupCloseOnExec(int fd) throws ErrnoException {
        String call = "fcntl(" + fd + ", F_DUPFD_CLOEXEC)";
        if (LibcJni.available()) {
            return LibcJni.fcntl(fd, F_DUPFD_CLOEXEC, 3, call);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            return check(call, i(call(Fn.FCNTL, state, fd, F_DUPFD_CLOEXEC, 3, 0, 0)), state);
        }
    }

    /** {@code dup2(from, to)}: {@code to} becomes a copy of {@code from}. */
    public static void dup2(int from, int to) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            check("dup2(" + from + ", " + to + ")", i(call(Fn.DUP2, state, from, to, 0, 0, 0)), state);
        }
    }

    /** {@code fcntl(fd, cmd, arg)}; commands that take no argument ignore {@code arg}. */
    public static int fcntl(int fd, int cmd, int arg) throws ErrnoException {
        String call = "fcntl(" + fd + ", " + cmd + ")";
        if (LibcJni.available()) {
            return LibcJni.fcntl(fd, cmd, arg, call);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            return check(call, i(call(Fn.FCNTL, state, fd, cmd, arg, 0, 0)), state);
        }
    }

    /** Sets {@code FD_CLOEXEC} on {@code fd}, so a process this one execs does not inherit it. */
    public static void setCloseOnExec(int fd) throws ErrnoException {
        fcntl(fd, F_SETFD, fcntl(fd, F_GETFD, 0) | FD_CLOEXEC);
    }

    /** Whether {@code fd} is open and close-on-exec. */
    public static boolean closeOnExec(int fd) {
        try {
            return (fcntl(fd, F_GETFD, 0) & FD_CLOEXEC) != 0;
        } catch (ErrnoException e) {
            return false;
        }
    }

    /** Whether {@code fd} is an open descriptor. */
    public static boolean isOpen(int fd) {
        try {
            fcntl(fd, F_GETFD, 0);
            return true;
        } catch (ErrnoException e) {
            return false;
        }
    }

    /** Clears {@code O_NONBLOCK} on {@code fd}, if set. */
    public static void setBlocking(int fd) throws ErrnoException {
        int flags = fcntl(fd, F_GETFL, 0);
        if ((flags & O_NONBLOCK) != 0) {
            fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        }
    }

    /** {@code open(path, flags, mode)}: a new descriptor. */
    public static int open(String path, int flags, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment p = arena.allocateFrom(path);
            return check(
                    "open(" + path + ", " + flags + ")",
                    i(call(Fn.OPEN, state, p.address(), flags, mode, 0, 0)),
                    state);
        }
    }

    /** libc's message for {@code errno}, e.g. "No such file or directory", from the thread-safe strerror_r (glibc's returns the text, the XSI one fills buf). */
    @SuppressWarnings("restricted") // reading the C string strerror_r returns
    static String strerror(int errno) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(256);
            long text = call(Fn.STRERROR_R, state(arena), errno, buf.address(), buf.byteSize(), 0, 0);
            if (text == 0) { // the XSI strerror_r (musl): 0 and the text in buf
                return buf.getString(0, StandardCharsets.UTF_8);
            }
            if (text > 0 && text < 4096) { // the XSI one's error number
                return "errno " + errno;
            }
            return MemorySegment.ofAddress(text).reinterpret(1024).getString(0, StandardCharsets.UTF_8);
        } catch (RuntimeException | LinkageError e) {
            return "errno " + errno;
        }
    }
}
