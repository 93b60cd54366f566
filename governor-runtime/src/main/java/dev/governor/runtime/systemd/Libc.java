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
 * Nothing is linked before the first call.
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

        /** The message alone: it names the call, the reason and the errno. */
        @Override
        public String toString() {
            return getMessage();
        }
    }

    // struct msghdr, struct iovec, struct cmsghdr on 64-bit Linux
    private static final long MSG_SIZE = 56, MSG_IOV = 16, MSG_IOVLEN = 24, MSG_CONTROL = 32, MSG_CONTROLLEN = 40;
    private static final long IOV_SIZE = 16;
    private static final long CMSG_HEADER = 16, CMSG_LEVEL = 8, CMSG_TYPE = 12;

    /**
     * Every function is called through one downcall shape, {@code long f(long, long, long, long, long)},
     * with errno captured. The JDK caches downcall stubs by shape, so the first call links one stub
     * and every other function costs a symbol lookup; with a shape per function, each stub cost
     * ~10-20 ms to generate at startup, on the path to {@code READY=1}. This is sound for the
     * integer-and-pointer functions used here on the 64-bit Linux ABIs (x86-64 SysV, AAPCS64):
     * arguments travel in registers, a callee ignores the registers it does not take and reads the
     * low 32 bits of an int argument, and a result declared {@code int} is truncated back to int
     * here ({@link #i}) because the upper half of the register is unspecified. The one variadic
     * function, fcntl, reads its third argument from the same register on both ABIs.
     */
    private static final class Fn {
        static final Linker LINKER = Linker.nativeLinker();
        static final StructLayout STATE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        static final FunctionDescriptor SHAPE = FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

        static {
            String arch = System.getProperty("os.arch", "");
            if (ADDRESS.byteSize() != 8 || !System.getProperty("os.name", "").equals("Linux")
                    || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
                throw new UnsupportedOperationException("native calls for systemd are made for 64-bit Linux on x86-64 or aarch64, not "
                        + System.getProperty("os.name") + " " + arch);
            }
        }

        static final MethodHandle SOCKET = link("socket");
        static final MethodHandle CONNECT = link("connect");
        static final MethodHandle BIND = link("bind");
        static final MethodHandle SENDMSG = link("sendmsg");
        static final MethodHandle RECVMSG = link("recvmsg");
        static final MethodHandle CLOSE = link("close");
        static final MethodHandle SETSOCKOPT = link("setsockopt");
        static final MethodHandle GETSOCKOPT = link("getsockopt");
        static final MethodHandle DUP = link("dup");
        static final MethodHandle FCNTL = link("fcntl");
        static final MethodHandle UNSETENV = link("unsetenv");
        static final MethodHandle CLOCK_GETTIME = link("clock_gettime");
        static final MethodHandle STRERROR = link("strerror");

        @SuppressWarnings("restricted") // native access is granted by --enable-native-access / the jars' Enable-Native-Access
        static MethodHandle link(String name) {
            MemorySegment symbol = LINKER.defaultLookup().find(name)
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name + "()"));
            return LINKER.downcallHandle(symbol, SHAPE, CAPTURE_ERRNO);
        }
    }

    private static final java.util.concurrent.atomic.AtomicBoolean LINKING_AHEAD = new java.util.concurrent.atomic.AtomicBoolean();

    /** Links every call on a background daemon thread (once); a call made meanwhile waits for it, as for any class initialization. */
    static void linkAhead() {
        if (LINKING_AHEAD.compareAndSet(false, true)) {
            Thread.ofPlatform().daemon().name("governor-ffm-link").start(() -> {
                try {
                    close(-1); // links the shared stub and resolves every symbol; close(-1) only sets EBADF
                } catch (RuntimeException | LinkageError e) {
                    // the first real call reports it
                }
            });
        }
    }

    /** Calls {@code fn} with errno captured into {@code state}. */
    private static long call(MethodHandle fn, MemorySegment state, long a, long b, long c, long d, long e) {
        try {
            return (long) fn.invokeExact(state, a, b, c, d, e);
        } catch (Throwable t) {
            if (t instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("native call failed to run", t);
        }
    }

    /** An {@code int} result: the low half of the register. */
    private static int i(long result) {
        return (int) result;
    }

    private static MemorySegment state(Arena arena) {
        return arena.allocate(Fn.STATE);
    }

    private static int errno(MemorySegment state) {
        return (int) Fn.ERRNO.get(state, 0L);
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
            int fd = i(call(Fn.SOCKET, state, domain, type, protocol, 0, 0));
            return check("socket(" + domain + ", " + type + ")", fd, state);
        }
    }

    static void connect(int fd, byte[] sockaddr, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment addr = arena.allocateFrom(JAVA_BYTE, sockaddr);
            int rc = i(call(Fn.CONNECT, state, fd, addr.address(), sockaddr.length, 0, 0));
            check("connect(" + what + ")", rc, state);
        }
    }

    static void bind(int fd, byte[] sockaddr, String what) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment addr = arena.allocateFrom(JAVA_BYTE, sockaddr);
            int rc = i(call(Fn.BIND, state, fd, addr.address(), sockaddr.length, 0, 0));
            check("bind(" + what + ")", rc, state);
        }
    }

    static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            call(Fn.CLOSE, state(arena), fd, 0, 0, 0, 0);
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
            long sent = call(Fn.SENDMSG, state, fd, msg.address(), flags, 0, 0);
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
            long n = call(Fn.RECVMSG, state, fd, msg.address(), 0, 0, 0);
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
            int rc = i(call(Fn.SETSOCKOPT, state, fd, level, option, v.address(), value.length));
            check("setsockopt(fd " + fd + ", " + what + ")", rc, state);
        }
    }

    /** An int-valued socket option. */
    static int getsockoptInt(int fd, int level, int option) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment value = arena.allocate(JAVA_INT);
            MemorySegment length = arena.allocateFrom(JAVA_INT, 4);
            int rc = i(call(Fn.GETSOCKOPT, state, fd, level, option, value.address(), length.address()));
            check("getsockopt(fd " + fd + ", " + level + ", " + option + ")", rc, state);
            return value.get(JAVA_INT, 0);
        }
    }

    static int dup(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            int copy = i(call(Fn.DUP, state, fd, 0, 0, 0, 0));
            return check("dup(" + fd + ")", copy, state);
        }
    }

    /** {@code fcntl(fd, cmd, arg)}; commands that take no argument ignore {@code arg}. */
    static int fcntl(int fd, int cmd, int arg) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            int rc = i(call(Fn.FCNTL, state, fd, cmd, arg, 0, 0));
            return check("fcntl(" + fd + ", " + cmd + ")", rc, state);
        }
    }

    static void unsetenv(String name) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            int rc = i(call(Fn.UNSETENV, state, arena.allocateFrom(name).address(), 0, 0, 0, 0));
            check("unsetenv(" + name + ")", rc, state);
        }
    }

    /** {@code clock_gettime(clock)} in microseconds. */
    static long clockMicros(int clock) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment timespec = arena.allocate(16, 8);
            int rc = i(call(Fn.CLOCK_GETTIME, state, clock, timespec.address(), 0, 0, 0));
            check("clock_gettime(" + clock + ")", rc, state);
            return timespec.get(JAVA_LONG, 0) * 1_000_000L + timespec.get(JAVA_LONG, 8) / 1_000L;
        }
    }

    /** libc's message for {@code errno}, e.g. "No such file or directory". */
    @SuppressWarnings("restricted") // reading the C string strerror returns
    static String strerror(int errno) {
        try (Arena arena = Arena.ofConfined()) {
            long text = call(Fn.STRERROR, state(arena), errno, 0, 0, 0, 0);
            return text == 0 ? "errno " + errno : MemorySegment.ofAddress(text).reinterpret(1024).getString(0, StandardCharsets.UTF_8);
        } catch (RuntimeException | LinkageError e) {
            return "errno " + errno;
        }
    }
}
