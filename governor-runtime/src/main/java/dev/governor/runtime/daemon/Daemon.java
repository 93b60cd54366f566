package dev.governor.runtime.daemon;

import dev.governor.Governor;
import dev.governor.runtime.GovernorRuntime;
import dev.governor.runtime.LifecycleListener;
import dev.governor.runtime.handover.Handover;
import dev.governor.runtime.internal.os.ErrnoException;
import dev.governor.runtime.internal.os.Libc;
import dev.governor.runtime.internal.os.ProcessCalls;
import dev.governor.runtime.upgrade.Takeover;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The classic Unix daemon, done safely on a JVM: {@code --daemonize} re-executes the same JVM
 * command line (a running JVM must never {@code fork()}: its GC, JIT and other threads do not
 * survive it) and waits until the new process is <em>ready</em>.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *     // everything up to here runs twice: in the launching process and in the daemon
 *     Daemon daemon = Daemon.builder()
 *             .pidFile(Path.of("/run/app.pid"))
 *             .logFile(Path.of("/var/log/app.log"))
 *             .daemonize();              // the launching process exits inside this call
 *     Governor gov = Governor.create();
 *     gov.add("http", new HttpFrontend(8080));
 *     daemon.readyWhen(gov);             // the launcher exits 0 once the whole tree is ready
 *     System.exit(gov.catchSignals().start().waitForShutdown().exitCode());
 * }
 * }</pre>
 *
 * <h2>The two processes</h2>
 * <ol>
 *   <li>The <b>launcher</b> (the process the user started) reaches {@link Builder#daemonize()},
 *       fails at once if the pid file is held by a live process, then starts the same java with the
 *       same JVM flags, class path (made absolute) and arguments, in the working directory, with
 *       stdin from {@code /dev/null}, stdout and stderr appended to the log file (or a private
 *       temporary file when there is none), and the marker {@value #MARKER_ENV} in its environment.
 *       It waits, and then exits with:
 *       <ul>
 *         <li>0 when the daemon reported ready;
 *         <li>the daemon's own exit code when it ended before ready, after printing what the
 *             daemon wrote since it started (its error) on stderr;
 *         <li>{@value #EXIT_STARTUP_TIMEOUT} when it was not ready within the startup timeout: the
 *             launcher then kills it by pid (TERM, and KILL after {@link #KILL_GRACE}).
 *       </ul>
 *   <li>The <b>daemon</b> (the re-executed process, {@link #isChild()} true) returns from
 *       {@code daemonize()} after calling {@code setsid} (a new session without a terminal),
 *       setting the umask and taking the pid file. {@link #readyWhen(Governor)} tells the
 *       launcher "ready" when the governor is ready, and without a log file first points stdout and
 *       stderr at {@code /dev/null}.
 * </ol>
 * Relative paths typed by the user resolve against the directory the launcher was started in,
 * {@link #launchDirectory()}, in both processes: the daemon itself runs in the working directory
 * ({@code /} by default).
 *
 * <p>{@link Builder#foreground()} gives the same {@link Daemon} without re-executing (pid file
 * only): one {@code main} serves both {@code --daemonize} and a foreground run under a supervisor.
 */
public final class Daemon {
    /** Environment marker of the re-executed process: {@code <launcher pid>:<ready socket path>}. */
    public static final String MARKER_ENV = "GOVERNOR_DAEMON";
    /** Environment variable with the launcher's working directory. */
    public static final String LAUNCH_DIR_ENV = "GOVERNOR_DAEMON_LAUNCH_DIR";
    /** Exit code of the launcher when the daemon was not ready in time (as timeout(1)). */
    public static final int EXIT_STARTUP_TIMEOUT = 124;
    /** How long the launcher waits after TERM before it KILLs a daemon that was not ready in time. */
    public static final Duration KILL_GRACE = Duration.ofSeconds(10);
    /** The message the daemon sends the launcher when ready. */
    static final String READY = "READY";

    private final Optional<PidFile> pidFile;
    private final Optional<Path> logFile;
    private final SocketChannel launcher; // null in the foreground and once ready was sent
    private volatile boolean readySent;

    private Daemon(Optional<PidFile> pidFile, Optional<Path> logFile, SocketChannel launcher) {
        this.pidFile = pidFile;
        this.logFile = logFile;
        this.launcher = launcher;
    }

    /** Options of the daemon, then {@link Builder#daemonize()} or {@link Builder#foreground()}. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * True in the re-executed daemon process: the marker is set and names this process's parent.
     * A process the daemon starts later inherits the marker but not that parent, so it is false there.
     */
    public static boolean isChild() {
        return Marker.current().isPresent();
    }

    /**
     * The directory the user started the command in: the launcher's working directory, in the
     * launcher and in the daemon alike. Resolve relative paths from the command line against it.
     */
    public static Path launchDirectory() {
        if (isChild()) {
            String dir = System.getenv(LAUNCH_DIR_ENV);
            if (dir != null && !dir.isBlank()) {
                return Path.of(dir);
            }
        }
        return Path.of("").toAbsolutePath();
    }

    /** {@code path} resolved against {@link #launchDirectory()}. */
    public static Path resolve(Path path) {
        Objects.requireNonNull(path, "path");
        return launchDirectory().resolve(path).normalize();
    }

    /**
     * The pid file this process holds, if one was asked for. In a process started by an upgrade it
     * is empty until the process takes over (then see {@link PidFile#runningPid(Path)}).
     */
    public Optional<PidFile> pidFile() {
        return pidFile;
    }

    /**
     * This JVM's own command line, as {@code daemonize()} re-executes it: the same java, JVM flags,
     * class path (absolute), main class or jar and arguments. What an upgrade starts by default.
     */
    public static List<String> ownCommandLine() {
        return Launcher.command(
                ProcessHandle.current().info().command(),
                Launcher.currentArguments(),
                Path.of("").toAbsolutePath());
    }

    /**
     * Started by an upgrade ({@value Handover#ENV} set): no launcher to re-execute or to tell, and
     * the pid file, still held by the process being replaced, is taken over once this one serves.
     */
    private static Daemon upgraded(Path pidFile, Path logFile) {
        if (pidFile != null) {
            Takeover.onCommit(() -> PidFile.takeOver(pidFile));
        }
        return new Daemon(Optional.empty(), Optional.ofNullable(logFile), null);
    }

    /** True in a process that {@code daemonize()} re-executed; false in the foreground. */
    public boolean daemonized() {
        return launcher != null;
    }

    /**
     * Tells the launcher "ready" when {@code gov} is ready (now, if it already is), and releases
     * the pid file when the governor has stopped. In the foreground only the latter.
     */
    public Daemon readyWhen(Governor gov) {
        Objects.requireNonNull(gov, "gov");
        GovernorRuntime.hooks(gov).addLifecycleListener(new LifecycleListener() {
            @Override
            public void ready() {
                notifyReady();
            }

            @Override
            public void stopped(dev.governor.ShutdownReport report) {
                pidFile.ifPresent(PidFile::close);
            }
        });
        if (gov.isReady()) {
            notifyReady();
        }
        return this;
    }

    /**
     * Tells the launcher that the daemon is ready, so it exits 0; for programs that decide
     * readiness themselves. Without a log file, stdout and stderr go to {@code /dev/null} first.
     * Idempotent; nothing to do in the foreground.
     */
    public synchronized void notifyReady() {
        if (launcher == null || readySent) {
            return;
        }
        readySent = true;
        if (logFile.isEmpty()) {
            detachOutput();
        }
        try (SocketChannel ch = launcher) {
            ch.write(ByteBuffer.wrap(
                    (READY + " " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            // the launcher is gone (killed, or gave up): the daemon runs on regardless
        }
    }

    private static void detachOutput() {
        System.out.flush();
        System.err.flush();
        try {
            int devNull = Libc.open("/dev/null", Libc.O_WRONLY | Libc.O_CLOEXEC, 0);
            try {
                Libc.dup2(devNull, 1);
                Libc.dup2(devNull, 2);
            } finally {
                Libc.close(devNull);
            }
        } catch (ErrnoException e) {
            throw new IllegalStateException("cannot detach stdout and stderr: " + e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return "Daemon[pid=" + ProcessHandle.current().pid() + ", "
                + (launcher == null ? "foreground" : readySent ? "ready sent" : "not ready yet")
                + pidFile.map(p -> ", pidFile=" + p.path()).orElse("")
                + logFile.map(p -> ", log=" + p).orElse("") + "]";
    }

    /** Options; every path relative to {@link Daemon#launchDirectory()}. */
    public static final class Builder {
        private Path pidFile;
        private Path logFile;
        private Path workingDirectory = Path.of("/");
        private int umask = 0027;
        private Duration startupTimeout = Duration.ofSeconds(60);

        private Builder() {}

        /** Pid file to create and lock (none by default). */
        public Builder pidFile(Path path) {
            this.pidFile = path == null ? null : resolve(path);
            return this;
        }

        /** Where the daemon's stdout and stderr go (appended); {@code /dev/null} by default. */
        public Builder logFile(Path path) {
            this.logFile = path == null ? null : resolve(path);
            return this;
        }

        /** Working directory of the daemon; {@code /} by default, so it holds no mount point busy. */
        public Builder workingDirectory(Path dir) {
            this.workingDirectory = resolve(Objects.requireNonNull(dir, "workingDirectory"));
            return this;
        }

        /** The daemon's umask, 0 to 0777; {@code 0027} by default. */
        public Builder umask(int mask) {
            if (mask < 0 || mask > 0777) {
                throw new IllegalArgumentException(
                        "umask must be within 0 and 0777 (octal), was 0" + Integer.toOctalString(mask));
            }
            this.umask = mask;
            return this;
        }

        /** How long the launcher waits for readiness before it kills the daemon; 60 s by default. */
        public Builder startupTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "startupTimeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("startupTimeout must be positive, was " + timeout);
            }
            this.startupTimeout = timeout;
            return this;
        }

        /**
         * In the launcher: re-executes this JVM as the daemon, waits, and exits the JVM
         * ({@code System.exit}) with the outcome; never returns. In the daemon ({@link #isChild()}):
         * detaches ({@code setsid}, umask), takes the pid file and returns.
         *
         * @throws PidFile.AlreadyRunningException in the daemon, if the pid file is held by a live
         *     process (the launcher checks first and exits 1 with the same message)
         */
        public Daemon daemonize() {
            Optional<Marker> marker = Marker.current();
            if (marker.isEmpty() && Takeover.pending()) {
                return upgraded(pidFile, logFile); // already detached: the process it replaces was a daemon
            }
            if (marker.isEmpty()) {
                System.exit(new Launcher(this.pidFile, this.logFile, this.workingDirectory, this.startupTimeout).run());
                throw new IllegalStateException("unreachable: System.exit returned");
            }
            try {
                ProcessCalls.setsid();
            } catch (ErrnoException e) {
                throw new IllegalStateException("cannot detach from the terminal: " + e.getMessage(), e);
            }
            ProcessCalls.umask(umask);
            PidFile pf = pidFile == null ? null : PidFile.acquire(pidFile);
            try {
                SocketChannel ch = SocketChannel.open(
                        UnixDomainSocketAddress.of(marker.get().readySocket()));
                return new Daemon(Optional.ofNullable(pf), Optional.ofNullable(logFile), ch);
            } catch (IOException e) {
                if (pf != null) {
                    pf.close();
                }
                throw new UncheckedIOException(
                        "cannot reach the launcher at " + marker.get().readySocket() + ": " + e, e);
            }
        }

        /** No re-execution: takes the pid file (if any) in this process and returns. */
        public Daemon foreground() {
            if (Takeover.pending()) {
                return upgraded(pidFile, null);
            }
            return new Daemon(Optional.ofNullable(pidFile).map(PidFile::acquire), Optional.empty(), null);
        }

        @Override
        public String toString() {
            return "Daemon.Builder[pidFile=" + pidFile + ", logFile=" + logFile + ", workingDirectory="
                    + workingDirectory + ", umask=0" + Integer.toOctalString(umask) + ", startupTimeout="
                    + startupTimeout + "]";
        }
    }

    /** The parsed marker, present only in the daemon re-executed by its (still living) launcher. */
    record Marker(long launcherPid, Path readySocket) {
        static Optional<Marker> current() {
            return parse(System.getenv(MARKER_ENV))
                    .filter(m -> ProcessHandle.current()
                                    .parent()
                                    .map(ProcessHandle::pid)
                                    .orElse(-1L)
                            == m.launcherPid());
        }

        static Optional<Marker> parse(String value) {
            if (value == null) {
                return Optional.empty();
            }
            int colon = value.indexOf(':');
            if (colon <= 0) {
                return Optional.empty();
            }
            try {
                return Optional.of(
                        new Marker(Long.parseLong(value.substring(0, colon)), Path.of(value.substring(colon + 1))));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }

        String value() {
            return launcherPid + ":" + readySocket;
        }
    }
}
