package dev.governor.runtime.upgrade;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.UpgradeOptions;
import dev.governor.UpgradeResult;
import dev.governor.runtime.daemon.Daemon;
import dev.governor.runtime.daemon.DaemonCommands;
import dev.governor.runtime.handover.Handover;
import dev.governor.runtime.handover.HandoverException;
import dev.governor.runtime.handover.HandoverSender;
import dev.governor.runtime.handover.HandoverSocket;
import dev.governor.runtime.internal.os.ChildProcess;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The old process's side of {@link Governor#upgrade(UpgradeOptions)}, one per governor. The rules
 * (those of cloudflare's tableflip):
 * <ul>
 *   <li>one upgrade at a time; none once shutdown has begun; none while the process this one took
 *       over from is still alive (it is still draining);
 *   <li>the new process gets every listener over a private unix socket (a fresh 0700 directory,
 *       the socket 0600, its path in {@value Handover#ENV}), plus this process's stdout and stderr,
 *       which it makes its own once it serves;
 *   <li>until it is ready its output goes to a private file, whose last lines explain a failure;
 *   <li>a new process that exits, refuses the sockets or is not ready within the timeout is killed
 *       by pid (TERM, then KILL after {@link #KILL_GRACE}) and this process keeps serving, untouched;
 *   <li>once it is ready this process begins its ordered shutdown: it drains and exits 0.
 * </ul>
 */
public final class Upgrader {
    private static final Logger LOG = LoggerFactory.getLogger(Upgrader.class);
    /** How long a killed new process gets between TERM and KILL. */
    public static final Duration KILL_GRACE = Duration.ofSeconds(5);
    /** Lines of the new process's output quoted in a failure. */
    static final int TAIL_LINES = 20;
    /** Variables of this process's socket activation: stale for the new process, which gets the sockets handed over. */
    private static final List<String> STALE_ENV = List.of("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", Handover.ENV);

    /** Where the sockets to hand over come from: the governor's listeners. */
    @FunctionalInterface
    public interface Sockets {
        /** A fresh list of every listener, each with a descriptor of its own (a dup) that the caller closes. */
        List<Handout> open() throws IOException;
    }

    /** One socket to hand over, and how to release this side's copy once sent. */
    public record Handout(HandoverSender.Outgoing outgoing, AutoCloseable release) {}

    private static final ThreadLocal<List<Runnable>> DEFERRED = new ThreadLocal<>();

    private final Governor gov;
    private final Sockets sockets;
    private final Consumer<GovernorEvent> publish;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile long lastNewPid = -1;

    public Upgrader(Governor gov, Sockets sockets, Consumer<GovernorEvent> publish) {
        this.gov = Objects.requireNonNull(gov, "gov");
        this.sockets = Objects.requireNonNull(sockets, "sockets");
        this.publish = Objects.requireNonNull(publish, "publish");
    }

    /**
     * Runs {@code upgrade} (a call of {@link Governor#upgrade}) with the drain it begins on success
     * put in {@code drain} instead of begun: for a caller that must answer first (the control socket).
     */
    public static <T> T deferringShutdown(List<Runnable> drain, java.util.function.Supplier<T> upgrade) {
        List<Runnable> before = DEFERRED.get();
        DEFERRED.set(drain);
        try {
            return upgrade.get();
        } finally {
            DEFERRED.set(before);
        }
    }

    /** Runs an upgrade on the calling thread (a platform thread is best: it waits in native calls). */
    public UpgradeResult upgrade(UpgradeOptions options) {
        Objects.requireNonNull(options, "options");
        if (gov.stopping()) {
            return refused("shutdown has begun: an upgrade is refused during shutdown");
        }
        Optional<Long> previous = Takeover.previousPid().filter(DaemonCommands::running);
        if (previous.isPresent()) {
            return refused("pid " + previous.get()
                    + ", which this process took over from, has not exited yet; upgrade again once it has");
        }
        if (!busy.compareAndSet(false, true)) {
            return refused("another upgrade (to pid " + lastNewPid + ") is under way: one at a time");
        }
        boolean handedOver = false;
        try {
            UpgradeResult result = onPlatformThread(options, DEFERRED.get());
            handedOver = result.succeeded();
            return result;
        } finally {
            if (!handedOver) {
                busy.set(false); // after a hand-over the process is draining: no second upgrade
            }
        }
    }

    /** The upgrade waits in native calls (poll, recvmsg): never on a virtual thread, whose carrier it would pin. */
    private UpgradeResult onPlatformThread(UpgradeOptions options, List<Runnable> deferred) {
        if (!Thread.currentThread().isVirtual()) {
            return run(options, deferred);
        }
        java.util.concurrent.CompletableFuture<UpgradeResult> result = new java.util.concurrent.CompletableFuture<>();
        Thread.ofPlatform().name("governor-upgrade").start(() -> {
            try {
                result.complete(run(options, deferred));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        try {
            return result.join();
        } catch (java.util.concurrent.CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private UpgradeResult refused(String reason) {
        LOG.warn("upgrade refused: {}", reason);
        publish.accept(new GovernorEvent.UpgradeFailed("", gov.options().clock().instant(), -1, reason));
        return new UpgradeResult(false, -1, reason);
    }

    private UpgradeResult run(UpgradeOptions options, List<Runnable> deferred) {
        Path dir = null;
        List<Handout> handouts = new ArrayList<>();
        Process child = null;
        try {
            dir = Files.createTempDirectory(
                    "governor-upgrade-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path output = dir.resolve("output.log");
            Files.createFile(
                    output, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            try (HandoverSocket socket = HandoverSocket.open(dir.resolve("handover.sock"))) {
                handouts.addAll(sockets.open());
                handouts.addAll(Stdio.handouts());
                List<String> command = options.command().isEmpty() ? Daemon.ownCommandLine() : options.command();
                ProcessBuilder pb = new ProcessBuilder(command)
                        .directory(Path.of("").toAbsolutePath().toFile())
                        .redirectInput(new File("/dev/null"))
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()))
                        .redirectError(ProcessBuilder.Redirect.appendTo(output.toFile()));
                Map<String, String> env = pb.environment();
                STALE_ENV.forEach(env::remove);
                env.putAll(options.environment());
                env.put(Handover.ENV, socket.path().toString());
                if (env.containsKey("NOTIFY_SOCKET")) {
                    // the new process is not the one systemd started: it announces MAINPID before READY=1
                    env.put(
                            "SYSTEMD_EXEC_PID",
                            Long.toString(ProcessHandle.current().pid()));
                }
                try {
                    child = pb.start();
                } catch (IOException e) {
                    return failed(-1, "cannot start " + command.getFirst() + ": " + e.getMessage(), null);
                }
                Process started = child;
                lastNewPid = started.pid();
                Thread killOnExit = Thread.ofPlatform().unstarted(() -> kill(started));
                Runtime.getRuntime()
                        .addShutdownHook(killOnExit); // this process ends mid-upgrade: the new one must not linger
                try {
                    LOG.info(
                            "upgrade: started pid {} ({}), handing over {} sockets at {}",
                            started.pid(),
                            String.join(" ", command),
                            handouts.size(),
                            socket.path());
                    publish.accept(new GovernorEvent.UpgradeStarted(
                            "", gov.options().clock().instant(), started.pid()));
                    long deadline = System.nanoTime() + options.readyTimeout().toNanos();
                    List<HandoverSender.Outgoing> out =
                            handouts.stream().map(Handout::outgoing).toList();
                    long readyPid;
                    try {
                        readyPid = socket.serve(
                                out, pid -> descendsFrom(pid, started), deadline, deadline, () -> !started.isAlive());
                    } catch (HandoverException e) {
                        return failed(started.pid(), why(started, e, options.readyTimeout()), output);
                    }
                    if (gov.stopping()) {
                        // the drain is under way already (a signal during the upgrade): the new process serves, this
                        // one ends
                        LOG.info("upgrade: pid {} is ready; this process was already shutting down", readyPid);
                    }
                    OwnSockets.markHandedOver();
                    copyStartupOutput(output);
                    String reason = "pid " + started.pid() + " is ready and serves every listener; pid "
                            + ProcessHandle.current().pid() + " drains and exits";
                    LOG.info("upgrade: {}", reason);
                    Runnable drain = () -> gov.requestShutdown("upgrade: handed over to pid " + started.pid());
                    if (deferred != null) {
                        deferred.add(drain);
                    } else {
                        drain.run();
                    }
                    return new UpgradeResult(true, started.pid(), reason);
                } finally {
                    try {
                        Runtime.getRuntime().removeShutdownHook(killOnExit);
                    } catch (IllegalStateException exiting) {
                        // the hook runs
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            if (child != null) {
                kill(child);
            }
            return failed(child == null ? -1 : child.pid(), "upgrade failed: " + e, null);
        } finally {
            for (Handout h : handouts) {
                try {
                    h.release().close();
                } catch (Exception e) {
                    LOG.debug("releasing {}: {}", h.outgoing().entry(), e.toString());
                }
            }
            ChildProcess.deletePrivateDir(dir);
        }
    }

    /** Why the hand-over failed, in one sentence; kills the new process if it still runs. */
    private static String why(Process child, HandoverException e, Duration timeout) {
        boolean timedOut = e.getMessage().contains("in time");
        if (!timedOut) {
            try {
                child.waitFor(2, TimeUnit.SECONDS); // it closed the connection on its way out: let it say how it ended
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        }
        boolean wasAlive = child.isAlive();
        if (wasAlive) {
            kill(child);
            return timedOut
                    ? "the new process (pid " + child.pid() + ") was not ready within " + timeout + "; killed it"
                    : "the new process (pid " + child.pid() + ") "
                            + e.getMessage().replace("the receiver ", "") + "; killed it";
        }
        try {
            child.waitFor(1, TimeUnit.SECONDS);
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        String exit = child.isAlive() ? "ended" : "exited with code " + child.exitValue();
        return "the new process (pid " + child.pid() + ") " + exit + " before it was ready"
                + (e.getMessage().contains("refused")
                        ? " (" + e.getMessage().replace("the receiver ", "it ") + ")"
                        : "");
    }

    private UpgradeResult failed(long pid, String why, Path output) {
        String tail = output == null ? "" : OutputTail.lastLines(output, TAIL_LINES);
        String reason = tail.isEmpty() ? why : why + "; its last output:\n" + tail;
        LOG.error("upgrade failed, this process keeps serving: {}", reason);
        publish.accept(new GovernorEvent.UpgradeFailed("", gov.options().clock().instant(), pid, reason));
        return new UpgradeResult(false, pid, reason);
    }

    /** What the new process wrote before it took over this one's stdout and stderr: on ours, so the log has it. */
    private static void copyStartupOutput(Path output) {
        try {
            byte[] bytes = Files.readAllBytes(output);
            if (bytes.length > 0) {
                System.err.flush();
                System.err.write(bytes, 0, Math.min(bytes.length, 1 << 20));
                System.err.flush();
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot copy the new process's startup output: {}", e.toString());
        }
    }

    /** True for the started process itself, or a process it started (a wrapper script's java). */
    static boolean descendsFrom(long pid, Process child) {
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        for (int depth = 0; depth < 8 && p.isPresent(); depth++) {
            if (p.get().pid() == child.pid()) {
                return true;
            }
            p = p.get().parent();
        }
        return false;
    }

    /** TERM, then KILL after {@link #KILL_GRACE}, by pid; waits for the end. */
    static void kill(Process child) {
        ChildProcess.terminate(
                child,
                KILL_GRACE,
                () -> LOG.warn("upgrade: pid {} ignored TERM for {}; killing it", child.pid(), KILL_GRACE));
    }

    @Override
    public String toString() {
        return "Upgrader[" + (busy.get() ? "upgrading to pid " + lastNewPid : "idle") + "]";
    }
}
