package dev.governor.runtime.internal;

import dev.governor.GovernorOptions;
import dev.governor.ShutdownReport;
import dev.governor.runtime.listen.GovernorListeners;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A governor's way down, once its shutdown began: lifecycle listeners (systemd's STOPPING=1,
 * /readyz) hear of it first, the drain delay passes, the whole-shutdown deadline is set and the
 * root's run is cancelled, which stops the tree; at the end, the {@link ShutdownReport}, the last
 * events, the inherited listeners closed and {@code waitForShutdown()} answered. Also what a
 * second INT or TERM means during it.
 */
final class ShutdownSequence {
    /** The least time listeners are given to hear the last events once the services have stopped. */
    private static final Duration FINAL_FLUSH = Duration.ofMillis(500);

    private final GovernorImpl governor;
    private final Tree tree;
    private final GovernorOptions options;
    private final Run rootRun;
    private final GovernorListeners listeners;
    private final CompletableFuture<ShutdownReport> terminated;
    // the INT or TERM that began the shutdown, and when: guarded by this
    private boolean signalled;
    private String lastSignal;
    private long lastSignalNanos;

    ShutdownSequence(
            GovernorImpl governor,
            Tree tree,
            Run rootRun,
            GovernorListeners listeners,
            CompletableFuture<ShutdownReport> terminated) {
        this.governor = governor;
        this.tree = tree;
        this.options = tree.options;
        this.rootRun = rootRun;
        this.listeners = listeners;
        this.terminated = terminated;
    }

    /** Stops the services, on a thread of its own: the caller (a signal handler, a service) does not wait. */
    void stopServices(Duration shutdownTimeout) {
        Thread.ofVirtual().name("governor-shutdown").start(() -> {
            // systemd (STOPPING=1) and /readyz hear of it before anything stops; a slow listener of
            // the user's is not waited for, and nothing is waited for longer than the shutdown bound
            tree.bus.flushLifecycle(shutdownTimeout);
            Duration drain = options.drainDelay();
            if (!drain.isZero()) {
                Tree.LOG.info("draining for {} ms before stopping services", drain.toMillis());
                new Run(rootRun.owner, null, "", 0).sleep(drain);
            }
            tree.setShutdownDeadline(Checks.plusSaturated(tree.now(), shutdownTimeout));
            rootRun.cancel();
        });
    }

    /** The end, once the root's run returned (or never started): {@code phase} is final. */
    void finish(GovernorPhase phase) {
        ShutdownReport report = new ShutdownReport( // copies the stop times in order; their map is built when read
                phase.exitCode(),
                Duration.between(phase.shutdownStartedAt(), tree.now()),
                tree.stopTimes(),
                tree.unstopped(),
                Optional.ofNullable(phase.fatalCause()));
        Tree.LOG.info(
                "governor stopped in {} ms, exit code {}{}",
                report.duration().toMillis(),
                report.exitCode(),
                report.unstopped().isEmpty() ? "" : ", unstopped: " + report.unstopped());
        tree.bus.lifecycle(l -> l.stopped(report));
        Duration left = tree.shutdownTimeLeft();
        tree.bus.flush(
                left == null || left.compareTo(FINAL_FLUSH) < 0
                        ? FINAL_FLUSH
                        : left); // listeners hear the end, within the bound
        listeners.close();
        Signals.unregister(governor);
        terminated.complete(report);
    }

    /** Waits for the report, uninterruptibly (an interrupt is kept for the caller). */
    ShutdownReport awaitReport() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return terminated.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw new IllegalStateException("governor ended abnormally", e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * An INT or TERM: begins the shutdown; a second one during it ends the process at once, unless
     * it is the same signal within {@link Signals#SAME_REQUEST_NANOS} of the first (one request
     * delivered twice, as timeout(1) does to the pid and then its process group).
     */
    void onTerminationSignal(String signal, int number) {
        boolean second;
        long now = System.nanoTime();
        synchronized (this) {
            if (signalled && signal.equals(lastSignal) && now - lastSignalNanos < Signals.SAME_REQUEST_NANOS) {
                Tree.LOG.info(
                        "SIG{} again within {} ms: the same request (timeout(1) signals the pid, then its group)",
                        signal,
                        Signals.SAME_REQUEST_NANOS / 1_000_000);
                return;
            }
            second = signalled;
            signalled = true;
            lastSignal = signal;
            lastSignalNanos = now;
        }
        if (second && !terminated.isDone()) {
            Tree.LOG.error("second SIG{} during shutdown: exiting now with {}", signal, 128 + number);
            Runtime.getRuntime().halt(128 + number);
        }
        governor.beginShutdown("SIG" + signal, 0, null);
    }

    @Override
    public String toString() {
        return "ShutdownSequence[" + (terminated.isDone() ? "done" : signalled ? "signalled " + lastSignal : "running")
                + "]";
    }
}
