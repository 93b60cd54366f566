package dev.governor.runtime.systemd;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The libc calls behind sd_notify and socket activation, bound with the JDK's FFM API
 * ({@code java.lang.foreign}). Linking a call costs a few milliseconds the first time; jnr's first
 * call generated classes for ~450 ms, and it sat on the path from {@code main()} to {@code READY=1}.
 * Each group of calls is linked on first use only, so a governor that only notifies links four.
 *
 * <p>Structures are laid out as on 64-bit Linux (x86-64 and aarch64 agree): systemd is Linux only,
 * and any other platform gets an {@link UnsupportedOperationException} naming itself, which the
 * callers report like any other failed send. Calls that fail throw {@link ErrnoException} with
 * {@code errno} and libc's words for it. Every call here returns at once except {@link #recvmsg},
 * which blocks in native code: call that from a platform thread.
 */
final class Libc {
    private Libc() {}

    /** A libc call that failed: its errno and {@code strerror(errno)}. */
    static final class ErrnoException extends IOException {
        private static final long serialVersionUID = 1L;
        private final int errno;

        ErrnoException(String call, int errno) {
            super(call + " failed: " + strerror(errno) + " (errno " + errno + ")");
            this.errno = errno;
        }

        int errno() {
            return errno;
        }
    }

    // struct msghdr, struct iovec, struct cmsghdr on 64-bit Linux
    private static final long MSG_SIZE = 56, MSG_IOV = 16, MSG_IOVLEN = 24, MSG_CONTROL = 32, MSG_CONTROLLEN = 40;
    private static final long IOV_SIZE = 16;
    private static final long CMSG_HEADER = 16, CMSG_LEVEL = 8, CMSG_TYPE = 12;

    private static final class Link {
        static final Linker LINKER = Linker.nativeLinker();
        static final StructLayout STATE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

        static {
            if (ADDRESS.byteSize() != 8 || !System.getProperty("os.name", "").equals("Linux")) {
                throw new UnsupportedOperationException("native calls for systemd are laid out for 64-bit Linux, not "
                        + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
            }
        }

        static MethodHandle link(String name, FunctionDescriptor signature, Linker.Option... options) {
            MemorySegment symbol = LINKER.defaultLookup().find(name)
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name + "()"));
            return LINKER.downcallHandle(symbol, signature, options);
        }

        static MethodHandle withErrno(String name, FunctionDescriptor signature) {
            return link(name, signature, CAPTURE_ERRNO);
        }
    }

    /** What sd_notify needs. */
    private static final class Notify {
        static final MethodHandle SOCKET = Link.withErrno("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle CONNECT = Link.withErrno("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle SENDMSG = Link.withErrno("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle CLOSE = Link.link("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    /** What a notify receiver needs besides. */
    private static final class Receive {
        static final MethodHandle BIND = Link.withErrno("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle RECVMSG = Link.withErrno("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    }

    /** Descriptors and their options. */
    private static final class Fds {
        static final MethodHandle SETSOCKOPT = Link.withErrno("setsockopt",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle GETSOCKOPT = Link.withErrno("getsockopt",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        static final MethodHandle DUP = Link.withErrno("dup", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        // int fcntl(int fd, int cmd, ...): the third argument is variadic; commands without one ignore it
        static final MethodHandle FCNTL = Link.link("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
                Link.CAPTURE_ERRNO, Linker.Option.firstVariadicArg(2));
    }

    /** The rest. */
    private static final class Misc {
        static final MethodHandle UNSETENV = Link.withErrno("unsetenv", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle CLOCK_GETTIME = Link.withErrno("clock_gettime", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle STRERROR = Link.link("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));
    }

    private static MemorySegment state(Arena arena) {
        return arena.allocate(Link.STATE);
    }

    private static int errno(MemorySegment state) {
        return (int) Link.ERRNO.get(state, 0L);
    }

    /** Native calls do not throw; a Throwable from invokeExact is a linkage bug. */
    private static IllegalStateException broken(String call, Throwable t) {
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException("native call " + call + " failed to run", t);
    }

    private static int check(String call, int result, MemorySegment state) throws ErrnoException {
        if (result < 0) {
            throw new ErrnoException(call, errno(state));
        }
        return result;
    }

    static int socket(int domain, int type, int protocol) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            int fd;
            try {
                fd = (int) Notify.SOCKET.invokeExact(state, domain, type, protocol);
            } catch (Throwable t) {
                throw broken("socket", t);
            }
            return check("socket(" + domain + ", " + type + ")", fd, state);
        }
    }

    static void connect(int fd, byte[] sockaddr, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment addr = arena.allocateFrom(JAVA_BYTE, sockaddr);
            int rc;
            try {
                rc = (int) Notify.CONNECT.invokeExact(state, fd, addr, sockaddr.length);
            } catch (Throwable t) {
                throw broken("connect", t);
            }
            check("connect(" + what + ")", rc, state);
        }
    }

    static void bind(int fd, byte[] sockaddr, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment addr = arena.allocateFrom(JAVA_BYTE, sockaddr);
            int rc;
            try {
                rc = (int) Receive.BIND.invokeExact(state, fd, addr, sockaddr.length);
            } catch (Throwable t) {
                throw broken("bind", t);
            }
            check("bind(" + what + ")", rc, state);
        }
    }

    static void close(int fd) {
        try {
            int ignored = (int) Notify.CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw broken("close", t);
        }
    }

    private static long align8(long n) {
        return (n + 7) & ~7L;
    }

    /**
     * {@code sendmsg(fd, {payload}, flags)} with {@code fds} attached as SCM_RIGHTS; the bytes sent,
     * or throws with errno (EAGAIN included, for the caller to retry).
     */
    static long sendmsg(int fd, byte[] payload, int[] fds, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment data = arena.allocate(Math.max(1, payload.length));
            MemorySegment.copy(payload, 0, data, JAVA_BYTE, 0, payload.length);
            MemorySegment iov = arena.allocate(IOV_SIZE, 8);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, payload.length);
            MemorySegment msg = arena.allocate(MSG_SIZE, 8);
            msg.set(ADDRESS, MSG_IOV, iov);
            msg.set(JAVA_LONG, MSG_IOVLEN, 1);
            if (fds.length > 0) {
                long length = CMSG_HEADER + 4L * fds.length;
                MemorySegment control = arena.allocate(align8(length), 8);
                control.set(JAVA_LONG, 0, length);
                control.set(JAVA_INT, CMSG_LEVEL, Posix.SOL_SOCKET);
                control.set(JAVA_INT, CMSG_TYPE, Posix.SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    control.set(JAVA_INT, CMSG_HEADER + 4L * i, fds[i]);
                }
                msg.set(ADDRESS, MSG_CONTROL, control);
                msg.set(JAVA_LONG, MSG_CONTROLLEN, control.byteSize());
            }
            long sent;
            try {
                sent = (long) Notify.SENDMSG.invokeExact(state, fd, msg, flags);
            } catch (Throwable t) {
                throw broken("sendmsg", t);
            }
            if (sent < 0) {
                throw new ErrnoException("sendmsg", errno(state));
            }
            return sent;
        }
    }

    /** A datagram received: its bytes and the descriptors passed with it. */
    record Received(byte[] data, List<Integer> fds) {}

    /** {@code recvmsg(fd, ..., 0)} of one datagram of at most {@code maxBytes}, with up to {@code maxFds} descriptors. Blocks. */
    static Received recvmsg(int fd, int maxBytes, int maxFds) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment data = arena.allocate(maxBytes);
            MemorySegment iov = arena.allocate(IOV_SIZE, 8);
            iov.set(ADDRESS, 0, data);
            iov.set(JAVA_LONG, 8, maxBytes);
            long controlSpace = CMSG_HEADER + align8(4L * maxFds);
            MemorySegment control = arena.allocate(controlSpace, 8);
            MemorySegment msg = arena.allocate(MSG_SIZE, 8);
            msg.set(ADDRESS, MSG_IOV, iov);
            msg.set(JAVA_LONG, MSG_IOVLEN, 1);
            msg.set(ADDRESS, MSG_CONTROL, control);
            msg.set(JAVA_LONG, MSG_CONTROLLEN, controlSpace);
            long n;
            try {
                n = (long) Receive.RECVMSG.invokeExact(state, fd, msg, 0);
            } catch (Throwable t) {
                throw broken("recvmsg", t);
            }
            if (n < 0) {
                throw new ErrnoException("recvmsg", errno(state));
            }
            List<Integer> fds = new ArrayList<>();
            long controlLength = msg.get(JAVA_LONG, MSG_CONTROLLEN);
            for (long at = 0; at + CMSG_HEADER <= controlLength; ) {
                long length = control.get(JAVA_LONG, at);
                if (length < CMSG_HEADER || at + length > controlLength) {
                    break;
                }
                if (control.get(JAVA_INT, at + CMSG_LEVEL) == Posix.SOL_SOCKET
                        && control.get(JAVA_INT, at + CMSG_TYPE) == Posix.SCM_RIGHTS) {
                    for (long i = at + CMSG_HEADER; i + 4 <= at + length; i += 4) {
                        fds.add(control.get(JAVA_INT, i));
                    }
                }
                at += align8(length);
            }
            return new Received(data.asSlice(0, n).toArray(JAVA_BYTE), List.copyOf(fds));
        }
    }

    static void setsockopt(int fd, int level, int option, byte[] value, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment v = arena.allocateFrom(JAVA_BYTE, value);
            int rc;
            try {
                rc = (int) Fds.SETSOCKOPT.invokeExact(state, fd, level, option, v, value.length);
            } catch (Throwable t) {
                throw broken("setsockopt", t);
            }
            check("setsockopt(fd " + fd + ", " + what + ")", rc, state);
        }
    }

    /** An int-valued socket option. */
    static int getsockoptInt(int fd, int level, int option) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment value = arena.allocate(JAVA_INT);
            MemorySegment length = arena.allocateFrom(JAVA_INT, 4);
            int rc;
            try {
                rc = (int) Fds.GETSOCKOPT.invokeExact(state, fd, level, option, value, length);
            } catch (Throwable t) {
                throw broken("getsockopt", t);
            }
            check("getsockopt(fd " + fd + ", " + level + ", " + option + ")", rc, state);
            return value.get(JAVA_INT, 0);
        }
    }

    static int dup(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            int copy;
            try {
                copy = (int) Fds.DUP.invokeExact(state, fd);
            } catch (Throwable t) {
                throw broken("dup", t);
            }
            return check("dup(" + fd + ")", copy, state);
        }
    }

    /** {@code fcntl(fd, cmd, arg)}; commands that take no argument ignore {@code arg}. */
    static int fcntl(int fd, int cmd, int arg) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            int rc;
            try {
                rc = (int) Fds.FCNTL.invokeExact(state, fd, cmd, arg);
            } catch (Throwable t) {
                throw broken("fcntl", t);
            }
            return check("fcntl(" + fd + ", " + cmd + ")", rc, state);
        }
    }

    static void unsetenv(String name) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            int rc;
            try {
                rc = (int) Misc.UNSETENV.invokeExact(state, arena.allocateFrom(name));
            } catch (Throwable t) {
                throw broken("unsetenv", t);
            }
            check("unsetenv(" + name + ")", rc, state);
        }
    }

    /** {@code clock_gettime(clock)} in microseconds. */
    static long clockMicros(int clock) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment timespec = arena.allocate(16, 8);
            int rc;
            try {
                rc = (int) Misc.CLOCK_GETTIME.invokeExact(state, clock, timespec);
            } catch (Throwable t) {
                throw broken("clock_gettime", t);
            }
            check("clock_gettime(" + clock + ")", rc, state);
            return timespec.get(JAVA_LONG, 0) * 1_000_000L + timespec.get(JAVA_LONG, 8) / 1_000L;
        }
    }

    /** libc's message for {@code errno}, e.g. "No such file or directory". */
    static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) Misc.STRERROR.invokeExact(errno);
            return text.equals(MemorySegment.NULL) ? "errno " + errno : text.reinterpret(1024).getString(0, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }
}
