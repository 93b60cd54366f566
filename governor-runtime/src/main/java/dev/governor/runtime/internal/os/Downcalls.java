package dev.governor.runtime.internal.os;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * How {@link Libc} reaches libc: the functions it binds, each linked on its first call, the one
 * downcall shape they share, and the errno each call captures.
 */
final class Downcalls {
    private Downcalls() {}

    /**
     * The functions, each linked on its first call. Every one is called through one downcall shape,
     * {@code long f(long, long, long, long, long)}, with errno captured. The JDK caches downcall stubs
     * by shape, so the first call generates one stub and every other function costs a symbol lookup;
     * with a shape per function, each stub cost ~10-20 ms to generate at startup, on the path to
     * {@code READY=1}. This is sound for the integer-and-pointer functions used here on the 64-bit
     * Linux ABIs (x86-64 SysV, AAPCS64): arguments travel in registers, a callee ignores the
     * registers it does not take and reads the low 32 bits of an int argument, and a result declared
     * {@code int} is truncated back to int ({@link #i}) because the upper half of the register is
     * unspecified. The variadic functions (fcntl, open) read their third argument from the same
     * register on both ABIs, and on x86-64 the stub sets {@code %al} (vector registers used) as a
     * variadic callee expects.
     */
    enum Fn {
        SOCKET("socket"),
        CONNECT("connect"),
        BIND("bind"),
        SENDMSG("sendmsg"),
        RECVMSG("recvmsg"),
        POLL("poll"),
        CLOSE("close"),
        SETSOCKOPT("setsockopt"),
        GETSOCKOPT("getsockopt"),
        GETSOCKNAME("getsockname"),
        DUP("dup"),
        DUP2("dup2"),
        FCNTL("fcntl"),
        OPEN("open"),
        UNSETENV("unsetenv"),
        CLOCK_GETTIME("clock_gettime"),
        STRERROR_R("strerror_r"),
        SETSID("setsid"),
        UMASK("umask"),
        KILL("kill"),
        GETEUID("geteuid"),
        GETPWNAM_R("getpwnam_r"),
        GETPWUID_R("getpwuid_r"),
        GETRLIMIT("getrlimit"),
        SETRLIMIT("setrlimit");

        private final String symbol;
        private volatile MethodHandle handle;

        Fn(String symbol) {
            this.symbol = symbol;
        }

        MethodHandle handle() {
            MethodHandle h = handle;
            return h != null ? h : linkOnce();
        }

        /** A second caller waits for the first one's link rather than doing it again beside it (CPU is short at startup). */
        private synchronized MethodHandle linkOnce() {
            MethodHandle h = handle;
            if (h == null) {
                h = handle = Linking.link(symbol);
            }
            return h;
        }
    }

    /** What every link shares, initialized by the first link. */
    private static final class Linking {
        static final Linker LINKER = Linker.nativeLinker();
        static final StructLayout STATE = Linker.Option.captureStateLayout();
        static final VarHandle ERRNO = STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        static final FunctionDescriptor SHAPE =
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

        static {
            String arch = System.getProperty("os.arch", "");
            if (ADDRESS.byteSize() != 8
                    || !System.getProperty("os.name", "").equals("Linux")
                    || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))) {
                throw new UnsupportedOperationException(
                        "Governor's native calls are made for 64-bit Linux on x86-64 or aarch64, not "
                                + System.getProperty("os.name") + " " + arch);
            }
        }

        @SuppressWarnings(
                "restricted") // native access is granted by --enable-native-access / the jars' Enable-Native-Access
        static MethodHandle link(String name) {
            MemorySegment symbol = LINKER.defaultLookup()
                    .find(name)
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name + "()"));
            return LINKER.downcallHandle(symbol, SHAPE, CAPTURE_ERRNO);
        }
    }

    /** Calls {@code fn} with errno captured into {@code state}. */
    static long call(Fn fn, MemorySegment state, long a, long b, long c, long d, long e) {
        try {
            return (long) fn.handle().invokeExact(state, a, b, c, d, e);
        } catch (Throwable t) {
            if (t instanceof Error err) {
                throw err;
            }
            if (t instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("native call " + fn.symbol + " failed to run", t);
        }
    }

    /** An {@code int} result: the low half of the register. */
    static int i(long result) {
        return (int) result;
    }

    static MemorySegment state(Arena arena) {
        return arena.allocate(Linking.STATE);
    }

    static int errno(MemorySegment state) {
        return (int) Linking.ERRNO.get(state, 0L);
    }

    static int check(String call, int result, MemorySegment state) throws ErrnoException {
        if (result < 0) {
            throw new ErrnoException(call, errno(state));
        }
        return result;
    }

    static long align8(long n) {
        return (n + 7) & ~7L;
    }
}
