package dev.governor.runtime.daemon;

import dev.governor.runtime.internal.os.ErrnoException;
import dev.governor.runtime.internal.os.ProcessCalls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Commands to a running daemon found through its {@link PidFile}, for a program's own
 * {@code stop}, {@code reload} and {@code status} arguments:
 *
 * <pre>{@code
 * switch (args[0]) {
 *     case "stop"   -> System.exit(DaemonCommands.stop(pidFile, Duration.ofSeconds(60)).exitCode());
 *     case "reload" -> System.exit(DaemonCommands.reload(pidFile).exitCode());
 *     case "status" -> System.exit(DaemonCommands.status(pidFile).exitCode());
 * }
 * }</pre>
 *
 * A daemon is running when its pid file exists and a live process holds its lock; a file nobody
 * holds is stale and counts as not running.
 */
public final class DaemonCommands {
    private static final int SIGHUP = 1;
    private static final int SIGTERM = 15;

    private DaemonCommands() {}

    /** What a command found and did; {@link #exitCode()} follows the LSB init-script conventions. */
    public record Result(Outcome outcome, long pid, Path pidFile) {
        public Result {
            Objects.requireNonNull(outcome, "outcome");
            Objects.requireNonNull(pidFile, "pidFile");
        }

        /** 0 running / done, 3 not running (status), 1 failed. */
        public int exitCode() {
            return switch (outcome) {
                case RUNNING, SIGNALLED, STOPPED -> 0;
                case NOT_RUNNING -> 3;
                case STILL_RUNNING, FAILED -> 1;
            };
        }

        /** One line for a human: {@code running as pid 4711 (/run/app.pid)}. */
        public String message() {
            return switch (outcome) {
                case RUNNING -> "running as pid " + pid + " (" + pidFile + ")";
                case NOT_RUNNING -> "not running (" + pidFile + " absent or stale)";
                case SIGNALLED -> "signalled pid " + pid + " (" + pidFile + ")";
                case STOPPED -> "stopped pid " + pid + " (" + pidFile + ")";
                case STILL_RUNNING -> "pid " + pid + " still running after the timeout (" + pidFile + ")";
                case FAILED -> "cannot signal pid " + pid + " (" + pidFile + ")";
            };
        }

        @Override
        public String toString() {
            return message();
        }
    }

    public enum Outcome {
        RUNNING,
        NOT_RUNNING,
        SIGNALLED,
        STOPPED,
        STILL_RUNNING,
        FAILED
    }

    /** Whether the daemon of {@code pidFile} runs, and its pid. */
    public static Result status(Path pidFile) {
        OptionalLong pid = PidFile.runningPid(pidFile);
        return pid.isPresent()
                ? new Result(Outcome.RUNNING, pid.getAsLong(), pidFile)
                : new Result(Outcome.NOT_RUNNING, -1, pidFile);
    }

    /** Sends SIGHUP (reload, after {@code catchSignals()} with a reload handler). */
    public static Result reload(Path pidFile) {
        return signal(pidFile, SIGHUP);
    }

    /**
     * Sends SIGTERM and waits up to {@code timeout} for the process to exit: {@link Outcome#STOPPED},
     * or {@link Outcome#STILL_RUNNING} after the timeout. A daemon that does not run gives
     * {@link Outcome#NOT_RUNNING} (exit code 3); callers for whom "already stopped" is success
     * check the outcome.
     */
    public static Result stop(Path pidFile, Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative, was " + timeout);
        }
        Result sent = signal(pidFile, SIGTERM);
        if (sent.outcome() != Outcome.SIGNALLED) {
            return sent;
        }
        // ProcessHandle.onExit() of a process that is not our child polls with growing pauses (seconds):
        // look every 20 ms instead, so "stop" returns as soon as the daemon is gone
        long deadline = System.nanoTime() + timeout.toNanos();
        while (running(sent.pid())) {
            if (System.nanoTime() - deadline >= 0 || Thread.currentThread().isInterrupted()) {
                return new Result(Outcome.STILL_RUNNING, sent.pid(), pidFile);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
        return new Result(Outcome.STOPPED, sent.pid(), pidFile);
    }

    /**
     * True while {@code pid} runs. A zombie has exited: it only waits for its parent to reap it,
     * and a daemon's parent is init, which may take its time (seconds, in some containers).
     */
    public static boolean running(long pid) {
        if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            return false;
        }
        try {
            String stat = java.nio.file.Files.readString(Path.of("/proc/" + pid + "/stat"));
            int close = stat.lastIndexOf(')'); // the command name may contain spaces and parentheses
            return close < 0 || close + 2 >= stat.length() || stat.charAt(close + 2) != 'Z';
        } catch (java.io.IOException | RuntimeException e) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); // gone meanwhile, or no /proc
        }
    }

    private static Result signal(Path pidFile, int signal) {
        OptionalLong pid = PidFile.runningPid(pidFile);
        if (pid.isEmpty()) {
            return new Result(Outcome.NOT_RUNNING, -1, pidFile);
        }
        try {
            ProcessCalls.kill(pid.getAsLong(), signal);
            return new Result(Outcome.SIGNALLED, pid.getAsLong(), pidFile);
        } catch (ErrnoException e) {
            return new Result(Outcome.FAILED, pid.getAsLong(), pidFile);
        }
    }
}
