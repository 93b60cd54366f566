package dev.governor.runtime.daemon;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A pid file locked for the life of the process: the classic guard against two instances of a
 * daemon, and how commands ({@link DaemonCommands}) find the running one.
 *
 * <p>{@link #acquire(Path)} creates the file with mode 0644 (only the owner may write; anyone may
 * read the pid), holding an exclusive {@code fcntl} lock ({@link FileChannel#tryLock()}) until
 * {@link #close()} or the end of the process. The file appears at its path with its content
 * complete: it is written and locked under a temporary name, then linked (new file) or renamed
 * (over a stale one) into place, so a reader never sees it empty or half written.
 *
 * <ul>
 *   <li>A live lock held by another process: {@link AlreadyRunningException}, "already running as
 *       pid N (path)", at once.
 *   <li>A file nobody holds write-locked (its process died without cleaning up): stale, taken
 *       over, even while other processes (of any uid: the file is readable) hold read locks on it.
 *       Liveness is decided one way, here and in {@link #runningPid}: a write lock is held.
 *   <li>A path that is a symbolic link: refused, never followed.
 * </ul>
 *
 * <p>{@link #close()} deletes the file while still holding the lock, then releases it; a shutdown
 * hook does the same at a clean JVM exit. POSIX drops every {@code fcntl} lock of a process on a
 * file when the process closes <em>any</em> descriptor of it, so this class never opens the file
 * of a pid file it holds a second time: {@link #runningPid(Path)} answers from memory for those.
 */
public final class PidFile implements AutoCloseable {
    private static final Map<Path, PidFile> HELD = new ConcurrentHashMap<>();
    private static final int ATTEMPTS = 10;

    private final Path path;
    private final long pid;
    private final FileChannel channel;
    private final FileLock lock;
    private final Object fileKey;
    private final Thread cleanup;
    private volatile boolean closed;

    private PidFile(Path path, long pid, FileChannel channel, FileLock lock, Object fileKey) {
        this.path = path;
        this.pid = pid;
        this.channel = channel;
        this.lock = lock;
        this.fileKey = fileKey;
        this.cleanup = Thread.ofPlatform().unstarted(this::close);
    }

    /** Thrown when another live process holds the pid file. */
    public static final class AlreadyRunningException extends IllegalStateException {
        private static final long serialVersionUID = 1L;
        private final long pid;
        private final transient Path path; // Path is not Serializable: a deserialized copy has none

        AlreadyRunningException(long pid, Path path) {
            super("already running as pid " + (pid > 0 ? Long.toString(pid) : "unknown") + " (" + path + ")");
            this.pid = pid;
            this.path = path;
        }

        /** The pid written in the file, or -1 if it could not be read. */
        public long pid() {
            return pid;
        }

        public Path path() {
            return path;
        }
    }

    /**
     * Creates and locks the pid file at {@code path} with this process's pid.
     *
     * @throws AlreadyRunningException if another live process holds it
     * @throws IllegalArgumentException if {@code path} is a symbolic link or a directory
     * @throws UncheckedIOException if the file cannot be written (no such directory, no permission)
     */
    public static PidFile acquire(Path path) {
        Objects.requireNonNull(path, "path");
        Path abs = path.toAbsolutePath().normalize();
        PidFile mine = HELD.get(abs);
        if (mine != null && !mine.closed) {
            throw new AlreadyRunningException(mine.pid, abs);
        }
        long pid = ProcessHandle.current().pid();
        try {
            return acquire(abs, pid);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create pid file " + abs + ": " + e, e);
        }
    }

    /**
     * Replaces the pid file at {@code path} with this process's, whoever holds it: for a process
     * that took over from the one holding it (an upgrade), which still runs while it drains. The new
     * file is written and locked under a temporary name, then renamed over the old one in one step;
     * the old process's {@link #close()} then leaves it alone (it is no longer its file).
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    public static PidFile takeOver(Path path) {
        Objects.requireNonNull(path, "path");
        Path abs = path.toAbsolutePath().normalize();
        try {
            return acquire(abs, ProcessHandle.current().pid(), true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot take over pid file " + abs + ": " + e, e);
        }
    }

    private static PidFile acquire(Path path, long pid) throws IOException {
        return acquire(path, pid, false);
    }

    /** Writes and locks the file under a temporary name, then installs it: beside a stale one, or over any ({@code takeOver}). */
    private static PidFile acquire(Path path, long pid, boolean takeOver) throws IOException {
        refuseLink(path);
        Path tmp = path.resolveSibling("." + path.getFileName() + "." + pid + ".tmp");
        Files.deleteIfExists(tmp);
        FileChannel ours = FileChannel.open(
                tmp,
                java.util.Set.of(
                        StandardOpenOption.CREATE_NEW,
                        StandardOpenOption.READ,
                        StandardOpenOption.WRITE,
                        LinkOption.NOFOLLOW_LINKS),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
        boolean done = false;
        try {
            FileLock lock = ours.tryLock();
            if (lock == null) {
                throw new IOException("cannot lock the fresh file " + tmp);
            }
            ours.write(ByteBuffer.wrap((pid + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
            ours.force(true);
            for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
                if (takeOver ? replace(path, tmp) : install(path, tmp)) {
                    Object key = Files.readAttributes(
                                    path, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                            .fileKey();
                    PidFile pf = new PidFile(path, pid, ours, lock, key);
                    HELD.put(path, pf);
                    Runtime.getRuntime().addShutdownHook(pf.cleanup);
                    done = true;
                    return pf;
                }
            }
            throw new IOException("the file kept changing under us in " + ATTEMPTS + " attempts");
        } finally {
            if (!done) {
                ours.close();
                Files.deleteIfExists(tmp);
            }
        }
    }

    /**
     * Puts the locked, written {@code tmp} at {@code path}: links it when the path is free, renames
     * it over a stale file once we hold that file's lock. False when the path changed meanwhile.
     */
    private static boolean install(Path path, Path tmp) throws IOException {
        try {
            Files.createLink(path, tmp);
            Files.delete(tmp);
            return true;
        } catch (FileAlreadyExistsException taken) {
            // an existing file: live, or stale
        }
        refuseLink(path);
        Object before = fileKey(path);
        if (before == null) {
            return false;
        }
        try (FileChannel existing =
                FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
            FileLock stale;
            try {
                stale = existing.tryLock();
            } catch (OverlappingFileLockException e) {
                throw new AlreadyRunningException(ProcessHandle.current().pid(), path);
            }
            if (stale == null && heldByWriter(existing)) {
                throw new AlreadyRunningException(readPid(existing), path);
            }
            // stale == null here: only read locks are held (any uid may read-lock a 0644 file); as
            // runningPid decides, nobody runs: a reader cannot keep the daemon from starting
            if (!before.equals(fileKey(path))) {
                return false; // replaced or removed between our look and our lock: look again
            }
            // we hold the stale file's lock (or only readers do), so no other daemon holds it: replace it with ours
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (NoSuchFileException gone) {
            return false;
        }
    }

    /**
     * True when a process holds a write lock on the file: the one test of liveness, used by both
     * {@link #acquire} and {@link #runningPid}. A shared probe is refused only by a write lock, and
     * only a process that can write the file (its owner) can take one; read locks, which anyone
     * who may read the file can take, do not make it live.
     */
    private static boolean heldByWriter(FileChannel ch) throws IOException {
        FileLock probe;
        try {
            probe = ch.tryLock(0, Long.MAX_VALUE, true);
        } catch (OverlappingFileLockException e) {
            return true; // held by this JVM through another object: live
        }
        if (probe == null) {
            return true;
        }
        probe.release();
        return false;
    }

    /** Renames {@code tmp} over whatever is at {@code path}, in one step. */
    private static boolean replace(Path path, Path tmp) throws IOException {
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }

    private static void refuseLink(Path path) {
        if (Files.isSymbolicLink(path)) {
            throw new IllegalArgumentException(
                    "pid file " + path + " is a symbolic link; refusing to follow it (use the real path)");
        }
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("pid file " + path + " is a directory; expected a file path");
        }
    }

    private static Object fileKey(Path path) throws IOException {
        try {
            return Files.readAttributes(
                            path, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .fileKey();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static long readPid(FileChannel channel) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(32);
        channel.read(buf, 0);
        return parsePid(new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII));
    }

    static long parsePid(String content) {
        String first = content.lines().findFirst().orElse("").trim();
        try {
            long pid = Long.parseLong(first);
            return pid > 0 ? pid : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * The pid of the live process holding the pid file at {@code path}; empty if there is no file
     * or nobody holds its lock (stale). Needs only read access to the file.
     *
     * @throws IllegalArgumentException if {@code path} is a symbolic link
     */
    public static OptionalLong runningPid(Path path) {
        Objects.requireNonNull(path, "path");
        Path abs = path.toAbsolutePath().normalize();
        PidFile mine = HELD.get(abs);
        if (mine != null && !mine.closed) {
            return OptionalLong.of(mine.pid);
        }
        refuseLink(abs);
        try (FileChannel ch = FileChannel.open(abs, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            if (!heldByWriter(ch)) {
                return OptionalLong.empty();
            }
            long pid = readPid(ch);
            return pid > 0 ? OptionalLong.of(pid) : OptionalLong.empty();
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read pid file " + abs + ": " + e, e);
        }
    }

    public Path path() {
        return path;
    }

    public long pid() {
        return pid;
    }

    /** True until {@link #close()}. */
    public boolean held() {
        return !closed && lock.isValid();
    }

    /** Deletes the file (if it is still ours) and releases the lock. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        HELD.remove(path, this);
        try {
            if (fileKey.equals(fileKey(path))) {
                Files.deleteIfExists(path);
            }
        } catch (IOException ignored) {
            // nothing more to do at exit; a leftover file is stale and taken over next time
        } finally {
            try {
                channel.close(); // releases the lock after the delete
            } catch (IOException ignored) {
                // closing a local file
            }
        }
        if (Thread.currentThread() != cleanup) {
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException exiting) {
                // the JVM is already shutting down
            }
        }
    }

    @Override
    public String toString() {
        return "PidFile[" + path + ", pid=" + pid + (closed ? ", closed" : ", held") + "]";
    }
}
