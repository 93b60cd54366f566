package dev.governor.runtime.systemd;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * The few libc calls the JDK does not offer, through the JDK's FFM API ({@link Libc}), with Linux's
 * constants (systemd is Linux only). Every call here is short and non-blocking, so it may run on a
 * virtual thread.
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
    static final int F_GETFD = 1;
    static final int F_SETFD = 2;
    static final int F_GETFL = 3;
    static final int F_SETFL = 4;
    static final int O_NONBLOCK = 0x800;
    /** {@code sizeof(sockaddr_un.sun_path)} on Linux. */
    static final int SUN_PATH_MAX = 108;

    private Posix() {}

    /** Whether {@code fd} is an open socket (getsockopt answers ENOTSOCK for anything else, EBADF for a closed fd). */
    static boolean isSocket(int fd) {
        try {
            Libc.getsockoptInt(fd, SOL_SOCKET, SO_TYPE);
            return true;
        } catch (Libc.ErrnoException e) {
            return false;
        }
    }

    /** One int-valued {@code SOL_SOCKET} option of {@code fd}. */
    static int socketOption(int fd, int option) throws IOException {
        return Libc.getsockoptInt(fd, SOL_SOCKET, option);
    }

    /** Sets {@code FD_CLOEXEC} on {@code fd}, so a process this one execs does not inherit it. */
    static void setCloseOnExec(int fd) throws IOException {
        try {
            int flags = Libc.fcntl(fd, F_GETFD, 0);
            Libc.fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        } catch (Libc.ErrnoException e) {
            throw new IOException("cannot set FD_CLOEXEC on fd " + fd + ": " + e.getMessage(), e);
        }
    }

    static boolean closeOnExec(int fd) {
        try {
            return (Libc.fcntl(fd, F_GETFD, 0) & FD_CLOEXEC) != 0;
        } catch (Libc.ErrnoException e) {
            return false;
        }
    }

    /** Clears {@code O_NONBLOCK} on {@code fd}, if set. */
    static void setBlocking(int fd) throws IOException {
        int flags = Libc.fcntl(fd, F_GETFL, 0);
        if ((flags & O_NONBLOCK) != 0) {
            Libc.fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        }
    }

    static void unsetenv(String name) {
        try {
            Libc.unsetenv(name);
        } catch (Libc.ErrnoException e) {
            throw new IllegalArgumentException("cannot unset " + name + ": " + e.getMessage(), e);
        }
    }

    static int dup(int fd) throws IOException {
        return Libc.dup(fd);
    }

    static void close(int fd) {
        Libc.close(fd);
    }

    /**
     * {@code CLOCK_MONOTONIC} in microseconds, as systemd's {@code MONOTONIC_USEC} wants it. Read with
     * {@code clock_gettime}; HotSpot's {@link System#nanoTime()} reads the same clock on Linux, which
     * is the fallback should the native call fail.
     */
    static long monotonicMicros() {
        try {
            return Libc.clockMicros(CLOCK_MONOTONIC);
        } catch (IOException | RuntimeException | LinkageError e) {
            return TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
        }
    }
}
