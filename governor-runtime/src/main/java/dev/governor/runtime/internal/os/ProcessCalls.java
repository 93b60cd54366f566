package dev.governor.runtime.internal.os;

import static dev.governor.runtime.internal.os.Downcalls.call;
import static dev.governor.runtime.internal.os.Downcalls.check;
import static dev.governor.runtime.internal.os.Downcalls.i;
import static dev.governor.runtime.internal.os.Downcalls.state;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.governor.runtime.internal.os.Downcalls.Fn;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The process side of the runtime's libc binding ({@link Libc} has sockets and descriptors): the
 * daemon's session and umask, signals, user lookups, resource limits, the environment and the
 * monotonic clock. Same linking and error rules as {@link Libc}. Internal: not part of the API.
 */
public final class ProcessCalls {

    public static final int CLOCK_MONOTONIC = 1;
    public static final int RLIMIT_NOFILE = 7;

    // struct passwd on 64-bit Linux
    private static final long PASSWD_SIZE = 48, PW_UID = 16;

    private ProcessCalls() {}

    /** {@code setsid()}: a new session with this process as its leader, detached from the terminal. */
    public static int setsid() throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            return check("setsid()", i(call(Fn.SETSID, state, 0, 0, 0, 0, 0)), state);
        }
    }

    /** {@code umask(mask)}; the previous mask (it cannot fail). */
    public static int umask(int mask) {
        try (Arena arena = Arena.ofConfined()) {
            return i(call(Fn.UMASK, state(arena), mask, 0, 0, 0, 0));
        }
    }

    /** {@code kill(pid, signal)}. */
    public static void kill(long pid, int signal) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            check("kill(" + pid + ", " + signal + ")", i(call(Fn.KILL, state, pid, signal, 0, 0, 0)), state);
        }
    }

    /** This process's effective uid (it cannot fail). */
    public static long geteuid() {
        try (Arena arena = Arena.ofConfined()) {
            return Integer.toUnsignedLong(i(call(Fn.GETEUID, state(arena), 0, 0, 0, 0, 0)));
        }
    }

    /** The uid of the user {@code name} (getpwnam_r); -1 when there is none. */
    public static long uidOf(String name) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pwd =
                    passwd(arena, Fn.GETPWNAM_R, arena.allocateFrom(name).address(), "getpwnam_r(" + name + ")");
            return pwd == null ? -1 : Integer.toUnsignedLong(pwd.get(JAVA_INT, PW_UID));
        }
    }

    /** The login name of {@code uid} (getpwuid_r); null when it has none. */
    @SuppressWarnings("restricted") // reading the C string pw_name points to, inside the lookup's buffer
    public static String userName(long uid) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pwd = passwd(arena, Fn.GETPWUID_R, uid, "getpwuid_r(" + uid + ")");
            return pwd == null ? null : pwd.get(ADDRESS, 0).reinterpret(4096).getString(0, StandardCharsets.UTF_8);
        }
    }

    /** One getpw*_r lookup by {@code key}: the {@code struct passwd} it filled, or null when there is no such entry. */
    private static MemorySegment passwd(Arena arena, Fn fn, long key, String call) throws ErrnoException {
        MemorySegment pwd = arena.allocate(PASSWD_SIZE, 8);
        MemorySegment buf = arena.allocate(16_384);
        MemorySegment result = arena.allocate(ADDRESS);
        int rc = i(call(fn, state(arena), key, pwd.address(), buf.address(), buf.byteSize(), result.address()));
        if (rc != 0) {
            throw new ErrnoException(call, rc); // these return the error number instead of setting errno
        }
        return result.get(ADDRESS, 0).address() == 0 ? null : pwd;
    }

    /** {@code getrlimit(resource)}: {@code {soft, hard}}. */
    public static long[] getrlimit(int resource) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment limit = arena.allocate(16, 8);
            check(
                    "getrlimit(" + resource + ")",
                    i(call(Fn.GETRLIMIT, state, resource, limit.address(), 0, 0, 0)),
                    state);
            return new long[] {limit.get(JAVA_LONG, 0), limit.get(JAVA_LONG, 8)};
        }
    }

    /** {@code setrlimit(resource, {soft, hard})}. */
    public static void setrlimit(int resource, long soft, long hard) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment limit = arena.allocate(16, 8);
            limit.set(JAVA_LONG, 0, soft);
            limit.set(JAVA_LONG, 8, hard);
            check(
                    "setrlimit(" + resource + ", " + soft + ", " + hard + ")",
                    i(call(Fn.SETRLIMIT, state, resource, limit.address(), 0, 0, 0)),
                    state);
        }
    }

    public static void unsetenv(String name) throws ErrnoException {
        if (LibcJni.available()) { // on the way to READY=1 under socket activation
            LibcJni.unsetenv(name, "unsetenv(" + name + ")");
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            check(
                    "unsetenv(" + name + ")",
                    i(call(Fn.UNSETENV, state, arena.allocateFrom(name).address(), 0, 0, 0, 0)),
                    state);
        }
    }

    /**
     * {@code CLOCK_MONOTONIC} in microseconds, as systemd's {@code MONOTONIC_USEC} wants it. Read with
     * {@code clock_gettime}; HotSpot's {@link System#nanoTime()} reads the same clock on Linux, which
     * is the fallback should the native call fail.
     */
    public static long monotonicMicros() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = state(arena);
            MemorySegment timespec = arena.allocate(16, 8);
            check(
                    "clock_gettime(CLOCK_MONOTONIC)",
                    i(call(Fn.CLOCK_GETTIME, state, CLOCK_MONOTONIC, timespec.address(), 0, 0, 0)),
                    state);
            return timespec.get(JAVA_LONG, 0) * 1_000_000L + timespec.get(JAVA_LONG, 8) / 1_000L;
        } catch (IOException | RuntimeException | LinkageError e) {
            return TimeUnit.NANOSECONDS.toMicros(System.nanoTime());
        }
    }
}
