package dev.governor.runtime.daemon;

import dev.governor.runtime.internal.os.ChildProcess;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The launching side of {@link Daemon}: re-executes this JVM's command line as the daemon and
 * waits for "ready", the daemon's exit, or the startup timeout. Returns the launcher's exit code.
 */
final class Launcher {
    /** Options that take the next word as their value (so it is not mistaken for the main class). */
    private static final Set<String> WITH_VALUE = Set.of(
            "-cp",
            "-classpath",
            "--class-path",
            "-p",
            "--module-path",
            "--upgrade-module-path",
            "--add-modules",
            "--add-exports",
            "--add-opens",
            "--add-reads",
            "--limit-modules",
            "--patch-module",
            "--source",
            "--enable-native-access",
            "--illegal-native-access",
            "--sun-misc-unsafe-memory-access");

    private static final Set<String> PATH_LISTS =
            Set.of("-cp", "-classpath", "--class-path", "-p", "--module-path", "--upgrade-module-path");

    private final Path pidFile;
    private final Path logFile;
    private final Path workingDirectory;
    private final Duration startupTimeout;
    private final PrintStream err = System.err;

    Launcher(Path pidFile, Path logFile, Path workingDirectory, Duration startupTimeout) {
        this.pidFile = pidFile;
        this.logFile = logFile;
        this.workingDirectory = workingDirectory;
        this.startupTimeout = startupTimeout;
    }

    int run() {
        if (pidFile != null) {
            OptionalLong running = PidFile.runningPid(pidFile);
            if (running.isPresent()) {
                err.println(new PidFile.AlreadyRunningException(running.getAsLong(), pidFile).getMessage());
                return 1;
            }
        }
        if (!Files.isDirectory(workingDirectory)) {
            err.println("working directory " + workingDirectory + " is not a directory");
            return 1;
        }
        Path privateDir = null;
        try {
            privateDir = Files.createTempDirectory(
                    "governor-daemon-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path readySocket = privateDir.resolve("ready.sock");
            Path output = logFile != null ? logFile : privateDir.resolve("startup.log");
            if (!Files.exists(output)) {
                Files.createFile(
                        output, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r-----")));
            }
            long outputStart = Files.size(output);
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(readySocket));
                ProcessBuilder pb = new ProcessBuilder(command(
                                ProcessHandle.current().info().command(),
                                currentArguments(),
                                Path.of("").toAbsolutePath()))
                        .directory(workingDirectory.toFile())
                        .redirectInput(new File("/dev/null"))
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                        .redirectError(ProcessBuilder.Redirect.appendTo(output.toFile()));
                pb.environment()
                        .put(
                                Daemon.MARKER_ENV,
                                new Daemon.Marker(ProcessHandle.current().pid(), readySocket).value());
                pb.environment()
                        .put(Daemon.LAUNCH_DIR_ENV, Path.of("").toAbsolutePath().toString());
                Process child = pb.start();
                Thread killOnExit = Thread.ofPlatform().unstarted(() -> kill(child));
                Runtime.getRuntime().addShutdownHook(killOnExit); // the user gave up (Ctrl-C) before ready
                try {
                    return await(child, server, output, outputStart);
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(killOnExit);
                    } catch (IllegalStateException exiting) {
                        // the hook runs
                    }
                }
            }
        } catch (IOException e) {
            err.println("cannot start the daemon: " + e);
            return 1;
        } finally {
            ChildProcess.deletePrivateDir(privateDir);
        }
    }

    private int await(Process child, ServerSocketChannel server, Path output, long outputStart) throws IOException {
        CompletableFuture<String> message = new CompletableFuture<>();
        Thread.ofVirtual().name("daemon-ready-" + child.pid()).start(() -> {
            try (SocketChannel ch = server.accept()) {
                message.complete(readLine(ch));
            } catch (IOException e) {
                message.complete("");
            }
        });
        long deadline = System.nanoTime() + startupTimeout.toNanos();
        try {
            CompletableFuture.anyOf(message, child.onExit()).get(startupTimeout.toNanos(), TimeUnit.NANOSECONDS);
            if (!message.isDone()) {
                // it exited: a "ready" it sent just before is still on its way
                try {
                    message.get(1, TimeUnit.SECONDS);
                } catch (TimeoutException notSent) {
                    message.complete("");
                }
            }
            String said = message.join();
            if (said.startsWith(Daemon.READY)) {
                System.out.println("daemon ready as pid " + child.pid() + (logFile != null ? ", log " + logFile : ""));
                return 0;
            }
            // the daemon closed its end without "ready": it is on its way out; take its exit code
            if (!child.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new TimeoutException();
            }
            printOutput(output, outputStart);
            err.println(
                    "daemon pid " + child.pid() + " exited with code " + child.exitValue() + " before it was ready");
            return child.exitValue();
        } catch (TimeoutException e) {
            kill(child);
            printOutput(output, outputStart);
            err.println("daemon pid " + child.pid() + " was not ready within " + startupTimeout + "; killed it");
            return Daemon.EXIT_STARTUP_TIMEOUT;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill(child);
            return 1;
        } catch (ExecutionException e) {
            throw new IllegalStateException("waiting for daemon pid " + child.pid(), e.getCause());
        }
    }

    private static String readLine(SocketChannel ch) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(256);
        while (buf.hasRemaining() && ch.read(buf) > 0) {
            for (int i = 0; i < buf.position(); i++) {
                if (buf.get(i) == '\n') {
                    return new String(buf.array(), 0, i, StandardCharsets.US_ASCII);
                }
            }
        }
        return "";
    }

    /** TERM, then KILL after the grace period, by pid. */
    private static void kill(Process child) {
        ChildProcess.terminate(child, Daemon.KILL_GRACE, () -> {});
    }

    /** What the daemon wrote since it started (capped at the last 64 KiB), on our stderr. */
    private void printOutput(Path output, long from) {
        try (FileChannel ch = FileChannel.open(output, StandardOpenOption.READ)) {
            long size = ch.size();
            long start = Math.max(from, size - 65536);
            ByteBuffer buf = ByteBuffer.allocate((int) Math.max(0, size - start));
            while (buf.hasRemaining() && ch.read(buf, start + buf.position()) > 0) {
                // read it all
            }
            if (start > from) {
                err.println("[… " + (start - from) + " earlier bytes in " + output + "]");
            }
            err.print(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            err.flush();
        } catch (IOException e) {
            err.println("cannot read the daemon's output in " + output + ": " + e);
        }
    }

    /**
     * This JVM's command line for the daemon: the same java, JVM flags, class path, main class
     * or jar and arguments; paths of the class path, module path, jar, agents, argument files and
     * the AOT cache made absolute, since the daemon starts in another working directory. An AOT
     * cache older than a jar of the command is left out ({@link AotCacheCheck}).
     */
    static List<String> command(Optional<String> executable, Optional<String[]> arguments, Path cwd) {
        return command(executable, arguments, cwd, why -> System.err.println("governor: WARNING: " + why));
    }

    /** {@link #command(Optional, Optional, Path)}, telling {@code warn} why it left an AOT cache out. */
    static List<String> command(
            Optional<String> executable, Optional<String[]> arguments, Path cwd, Consumer<String> warn) {
        String java = executable.orElseThrow(
                () -> new IllegalStateException(
                        "cannot read this JVM's executable from ProcessHandle.current().info(); daemonize needs it to re-execute"));
        String[] args = arguments.orElseThrow(
                () -> new IllegalStateException(
                        "cannot read this JVM's arguments (/proc/self/cmdline nor ProcessHandle.current().info()); daemonize needs them to re-execute"));
        List<String> cmd = new ArrayList<>(args.length + 1);
        cmd.add(java);
        boolean launcherOptions = true;
        int aotCache = -1; // where -XX:AOTCache= is in cmd
        List<String> classPaths = new ArrayList<>(); // the values of the path options, absolute
        String mainJar = null; // of -jar, absolute
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!launcherOptions) {
                cmd.add(a);
            } else if (PATH_LISTS.contains(a) && i + 1 < args.length) {
                cmd.add(a);
                classPaths.add(absolutePaths(args[++i], cwd));
                cmd.add(classPaths.getLast());
            } else if (a.startsWith("--class-path=") || a.startsWith("--module-path=")) {
                int eq = a.indexOf('=');
                classPaths.add(absolutePaths(a.substring(eq + 1), cwd));
                cmd.add(a.substring(0, eq + 1) + classPaths.getLast());
            } else if (WITH_VALUE.contains(a) && i + 1 < args.length) {
                cmd.add(a);
                cmd.add(args[++i]);
            } else if (a.equals("-jar") && i + 1 < args.length) {
                cmd.add(a);
                mainJar = cwd.resolve(args[++i]).toString();
                cmd.add(mainJar);
                launcherOptions = false;
            } else if (a.equals("-m") || a.equals("--module")) {
                cmd.add(a);
                if (i + 1 < args.length) {
                    cmd.add(args[++i]);
                }
                launcherOptions = false;
            } else if (a.startsWith("-javaagent:")) {
                String spec = a.substring("-javaagent:".length());
                int eq = spec.indexOf('=');
                String jar = eq < 0 ? spec : spec.substring(0, eq);
                cmd.add("-javaagent:" + cwd.resolve(jar) + (eq < 0 ? "" : spec.substring(eq)));
            } else if (a.startsWith("@") && a.length() > 1) {
                cmd.add("@" + cwd.resolve(a.substring(1)));
            } else if (a.startsWith(AotCacheCheck.FLAG) && a.length() > AotCacheCheck.FLAG.length()) {
                aotCache = cmd.size();
                cmd.add(AotCacheCheck.FLAG + cwd.resolve(a.substring(AotCacheCheck.FLAG.length())));
            } else if (a.startsWith("-")) {
                cmd.add(a);
            } else {
                // the main class, or a source file: the application's arguments follow
                cmd.add(a.endsWith(".java") ? cwd.resolve(a).toString() : a);
                launcherOptions = false;
            }
        }
        return aotCache < 0 ? cmd : AotCacheCheck.dropIfStale(cmd, aotCache, classPaths, mainJar, warn);
    }

    /**
     * This JVM's arguments (without argv[0]): from {@code /proc/self/cmdline}, which holds them all;
     * {@link ProcessHandle.Info#arguments()} gives up on a command line longer than a page (a long
     * class path), so it is only the fallback.
     */
    static Optional<String[]> currentArguments() {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc/self/cmdline"));
            List<String> words = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    words.add(new String(raw, start, i - start, java.nio.charset.Charset.defaultCharset()));
                    start = i + 1;
                }
            }
            if (!words.isEmpty()) {
                return Optional.of(words.subList(1, words.size()).toArray(String[]::new));
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: ask the JDK
        }
        return ProcessHandle.current().info().arguments();
    }

    private static String absolutePaths(String list, Path cwd) {
        return String.join(
                File.pathSeparator,
                Stream.of(list.split(File.pathSeparator, -1))
                        .map(entry -> entry.isEmpty()
                                ? cwd.toString()
                                : cwd.resolve(entry).toString())
                        .toList());
    }

    @Override
    public String toString() {
        return "Launcher[pidFile=" + pidFile + ", logFile=" + logFile + ", workingDirectory=" + workingDirectory
                + ", startupTimeout=" + startupTimeout + "]";
    }
}
