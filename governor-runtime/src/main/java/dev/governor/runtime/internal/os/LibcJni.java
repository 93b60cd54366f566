package dev.governor.runtime.internal.os;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The libc calls on the way from {@code main()} to {@code READY=1}, through a small JNI library of
 * the runtime's own ({@code src/main/c/governor_jni.c}), built with the runtime where a C compiler
 * is found and carried in its jar (issue 13, W4): the first FFM downcall of a JVM costs ~85 ms of
 * class spinning and JIT work, loading this library and calling it ~3 ms. It covers the sd_notify
 * send (socket, connect, one {@code sendmsg} with the descriptors as SCM_RIGHTS, close, in one
 * call), the descriptor calls of socket activation and of a listener kept for the fd store
 * ({@code fcntl}, an int {@code getsockopt}, {@code close}) and {@code unsetenv}; {@link Libc} and
 * {@link ProcessCalls} route those here when the library is in use and keep everything else.
 *
 * <p>The FFM binding is the fallback when the library is absent (another platform, a build without
 * a C compiler), cannot be loaded (a temporary directory mounted {@code noexec}), or is turned off
 * with {@code -D}{@value #DISABLE_PROPERTY}{@code =false}. It is loaded once per JVM, on first use:
 * from the class path's directory as it is, from a jar by a copy in {@code java.io.tmpdir} (a new
 * file only its owner may read, deleted once loaded). A failed load is remembered, not retried.
 */
public final class LibcJni {
    /** Set to {@code false} to make every call through the FFM binding instead. */
    public static final String DISABLE_PROPERTY = "dev.governor.jni";

    private LibcJni() {}

    /** The library's resource next to this class for {@code arch} ({@code os.arch}: amd64, aarch64). */
    static String resource(String arch) {
        return "native/linux-" + arch + "/libgovernor_jni.so";
    }

    /** Loaded on first use, once: null when the library is in use, else why it is not. */
    private static final class Load {
        static final String UNAVAILABLE = load();
    }

    /** Tests of the FFM fallback turn the library off for a while (it stays loaded). */
    private static volatile boolean bypassed;

    /**
     * Whether the calls go through the JNI library; loads it on the first call (also from another
     * thread, which then waits for that load).
     */
    public static boolean available() {
        return Load.UNAVAILABLE == null && !bypassed;
    }

    /** For tests of the FFM fallback: while true, {@link #available()} is false. */
    static void bypass(boolean on) {
        bypassed = on;
    }

    /** Why the library is not used ({@code ""} when it is). */
    public static String unavailableBecause() {
        String why = Load.UNAVAILABLE;
        return why != null ? why : bypassed ? "bypassed by a test" : "";
    }

    private static String load() {
        if ("false".equals(System.getProperty(DISABLE_PROPERTY))) {
            return "turned off with -D" + DISABLE_PROPERTY + "=false";
        }
        String arch = System.getProperty("os.arch", "");
        if (!System.getProperty("os.name", "").equals("Linux")) {
            return "not Linux: " + System.getProperty("os.name");
        }
        String name = resource(arch);
        URL url = LibcJni.class.getResource(name);
        if (url == null) {
            return "no " + name + " in the runtime (built without a C compiler, or for another platform)";
        }
        return loadFrom(url, null);
    }

    /**
     * Loads the library at {@code url}: a file as it is, anything else (a jar's entry) by a copy in
     * {@code tmpDir} ({@code java.io.tmpdir} when null), deleted once loaded. Null when loaded, else why not.
     */
    @SuppressWarnings("restricted") // System.load: the runtime is granted native access as for FFM
    static String loadFrom(URL url, Path tmpDir) {
        try {
            if (url.getProtocol().equals("file")) {
                System.load(Path.of(URI.create(url.toString())).toString());
                return null;
            }
            Path copy = freshFile(tmpDir == null ? Path.of(System.getProperty("java.io.tmpdir")) : tmpDir);
            try {
                try (InputStream in = url.openStream();
                        OutputStream out = Files.newOutputStream(copy, StandardOpenOption.WRITE)) {
                    in.transferTo(out);
                }
                System.load(copy.toString());
            } finally {
                Files.deleteIfExists(copy); // a loaded library stays mapped
            }
            return null;
        } catch (IOException | RuntimeException | LinkageError e) {
            return "cannot load " + url + ": " + e;
        }
    }

    private static final AtomicInteger COPIES = new AtomicInteger();

    /**
     * A new empty file in {@code dir} only its owner may read and write, named after this process
     * (Files.createTempFile would seed a SecureRandom: ~80 ms of security providers on a cold JVM). A
     * name taken already, by a file or a link, is never opened: the next one is tried.
     */
    private static Path freshFile(Path dir) throws IOException {
        FileAttribute<?> ownerOnly = PosixFilePermissions.asFileAttribute(
                EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE));
        String stem = "governor-jni-" + ProcessHandle.current().pid() + "-" + System.nanoTime() + "-";
        for (int tries = 0; ; tries++) {
            Path p = dir.resolve(stem + COPIES.incrementAndGet() + ".so");
            try {
                return Files.createFile(p, ownerOnly);
            } catch (FileAlreadyExistsException e) {
                if (tries == 100) {
                    throw e;
                }
            }
        }
    }

    /**
     * One datagram on a fresh unix datagram socket connected to {@code sockaddr} (a {@code
     * sockaddr_un} as {@code connect} takes it; {@code what} names it in errors), with {@code fds} as
     * SCM_RIGHTS and the {@code sendmsg} {@code flags}; the bytes sent. Only when {@link #available()}.
     *
     * @throws ErrnoException naming the call that failed, as {@link Libc} does
     */
    public static int send(byte[] sockaddr, String what, byte[] payload, int[] fds, int flags) throws ErrnoException {
        Objects.requireNonNull(sockaddr, "sockaddr");
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(fds, "fds");
        if (!available()) {
            throw new IllegalStateException("the JNI library is not in use: " + unavailableBecause());
        }
        int r = send0(sockaddr, payload, fds, flags);
        if (r >= 0) {
            return r;
        }
        int stage = -r >>> 16;
        int errno = -r & 0xffff;
        throw new ErrnoException(
                switch (stage) {
                    case 1 -> "socket(AF_UNIX, SOCK_DGRAM)";
                    case 2 -> "connect(" + what + ")";
                    case 3 -> "sendmsg(" + what + ", " + payload.length + " bytes, " + fds.length + " descriptors)";
                    default ->
                        "sd_notify send to " + what + " (" + sockaddr.length + "-byte address, " + fds.length
                                + " descriptors)";
                },
                errno);
    }

    /** {@link #int0} failed: the result is {@code FAILED - errno}; results of the calls are ints, far above it. */
    static final long FAILED = -(1L << 40);

    private static final int FCNTL = 1;
    private static final int GETSOCKOPT_INT = 2;
    private static final int CLOSE = 3;

    /** {@code fcntl(fd, cmd, arg)}: its result, or {@code call} named in the ErrnoException. */
    static int fcntl(int fd, int cmd, int arg, String call) throws ErrnoException {
        return check(int0(FCNTL, fd, cmd, arg), call);
    }

    /** {@code getsockopt(fd, SOL_SOCKET, option)} of an int option: its value. */
    static int socketOption(int fd, int option, String call) throws ErrnoException {
        return check(int0(GETSOCKOPT_INT, fd, option, 0), call);
    }

    /** {@code close(fd)}, errors ignored as {@link Libc#close} does. */
    static void close(int fd) {
        int0(CLOSE, fd, 0, 0);
    }

    /** {@code unsetenv(name)}. */
    static void unsetenv(String name, String call) throws ErrnoException {
        byte[] bytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
        int errno = unsetenv0(bytes);
        if (errno != 0) {
            throw new ErrnoException(call, errno);
        }
    }

    private static int check(long r, String call) throws ErrnoException {
        if (r <= FAILED) {
            throw new ErrnoException(call, (int) (FAILED - r));
        }
        return (int) r;
    }

    private static native long int0(int fn, int a, int b, int c);

    private static native int unsetenv0(byte[] nulTerminatedName);

    private static native int send0(byte[] sockaddr, byte[] payload, int[] fds, int flags);
}
