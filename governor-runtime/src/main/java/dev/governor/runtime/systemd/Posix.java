package dev.governor.runtime.systemd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jnr.constants.platform.Fcntl;
import jnr.ffi.byref.IntByReference;
import jnr.posix.FileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.Timespec;

/**
 * The few libc calls the JDK does not offer, through jnr-posix, with Linux's constants (systemd is
 * Linux only). Every call here is short and non-blocking, so it may run on a virtual thread.
 */
final class Posix {
    static final int SOL_SOCKET = 1;
    static final int SO_TYPE = 3;
    static final int SO_ACCEPTCONN = 30;
    static final int SO_DOMAIN = 39;
    static final int SCM_RIGHTS = 1;
    static final int AF_UNIX = 1;
    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_STREAM = 1;
    static final int SOCK_DGRAM = 2;
    static final int MSG_DONTWAIT = 0x40;
    static final int MSG_NOSIGNAL = 0x4000;
    static final int FD_CLOEXEC = 1;
    static final int CLOCK_MONOTONIC = 1;
    static final int EAGAIN = 11;
    static final int EINTR = 4;
    /** {@code sizeof(sockaddr_un.sun_path)} on Linux. */
    static final int SUN_PATH_MAX = 108;

    private Posix() {}

    /** Loads the native binding on first use only. */
    private static final class Holder {
        static final POSIX POSIX = POSIXFactory.getNativePOSIX();
    }

    /** The native POSIX binding. */
    static POSIX posix() {
        return Holder.POSIX;
    }

    /** {@code strerror(errno)} with the errno, e.g. {@code "No such file or directory (errno 2)"}. */
    static String lastError() {
        int errno = posix().errno();
        return posix().strerror(errno) + " (errno " + errno + ")";
    }

    /** Whether {@code fd} is an open socket. */
    static boolean isSocket(int fd) {
        FileStat st = posix().allocateStat();
        return posix().fstat(fd, st) == 0 && st.isSocket();
    }

    /** One int-valued {@code SOL_SOCKET} option of {@code fd}. */
    static int socketOption(int fd, int option) throws IOException {
        ByteBuffer value = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
        IntByReference len = new IntByReference(4);
        if (posix().libc().getsockopt(fd, SOL_SOCKET, option, value, len) != 0) {
            throw new IOException("getsockopt(fd " + fd + ", " + option + ") failed: " + lastError());
        }
        return value.getInt(0);
    }

    /** Sets {@code FD_CLOEXEC} on {@code fd}, so a process this one execs does not inherit it. */
    static void setCloseOnExec(int fd) throws IOException {
        int flags = posix().fcntl(fd, Fcntl.F_GETFD);
        if (flags < 0 || posix().fcntlInt(fd, Fcntl.F_SETFD, flags | FD_CLOEXEC) < 0) {
            throw new IOException("cannot set FD_CLOEXEC on fd " + fd + ": " + lastError());
        }
    }

    static boolean closeOnExec(int fd) {
        int flags = posix().fcntl(fd, Fcntl.F_GETFD);
        return flags >= 0 && (flags & FD_CLOEXEC) != 0;
    }

    static void unsetenv(String name) {
        posix().unsetenv(name);
    }

    static int dup(int fd) throws IOException {
        int copy = posix().dup(fd);
        if (copy < 0) {
            throw new IOException("dup(" + fd + ") failed: " + lastError());
        }
        return copy;
    }

    static void close(int fd) {
        posix().close(fd);
    }

    /**
     * {@code CLOCK_MONOTONIC} in microseconds, as systemd's {@code MONOTONIC_USEC} wants it. Read with
     * {@code clock_gettime}; HotSpot's {@link System#nanoTime()} reads the same clock on Linux, which
     * is the fallback should the native call fail.
     */
    static long monotonicMicros() {
        try {
            Timespec ts = posix().allocateTimespec();
            if (posix().clock_gettime(CLOCK_MONOTONIC, ts) == 0) {
                return ts.sec() * 1_000_000L + ts.nsec() / 1_000L;
            }
        } catch (RuntimeException | LinkageError e) {
            // fall through to nanoTime
        }
        return TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
    }
}
