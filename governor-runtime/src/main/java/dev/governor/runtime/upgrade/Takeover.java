package dev.governor.runtime.upgrade;

import dev.governor.Governor;
import dev.governor.runtime.GovernorExtension;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.LifecycleListener;
import dev.governor.runtime.handover.Handover;
import dev.governor.runtime.handover.HandoverException;
import dev.governor.runtime.handover.HandoverReceiver;
import dev.governor.runtime.handover.Kind;
import dev.governor.runtime.listen.HandedOverSockets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The new process's side of an upgrade, plugged into the first governor of a process started with
 * {@value Handover#ENV}{@code =<socket>}: by {@link Governor#upgrade} of the process there, or by an
 * operator or deploy tool starting version 2 beside version 1.
 *
 * <ol>
 *   <li>When the first governor is created (so before anything binds), it fetches every socket
 *       from the process at the socket and offers each to {@code listeners()} under its name
 *       ({@link HandedOverSockets}). A handover that fails ends this process: its governor shuts
 *       down at {@code start()}, and the old process, told why, keeps serving.
 *   <li>When the whole tree is ready, it tells the old process; that one answers {@code DRAIN} and
 *       drains. This process then writes where the old one wrote (its stdout and stderr), takes
 *       over the pid file, and (being the first lifecycle listener) precedes systemd's
 *       {@code READY=1} with {@code MAINPID}.
 *   <li>If the old process gave up meanwhile (it timed out and is killing this one), this one
 *       shuts down.
 * </ol>
 */
public final class Takeover implements GovernorExtension {
    private static final Logger LOG = LoggerFactory.getLogger(Takeover.class);
    /** How long fetching the sockets may take. */
    static final Duration FETCH_TIMEOUT = Duration.ofSeconds(30);
    /** How long the old process may take to answer "ready". */
    static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(30);

    private static final AtomicBoolean CLAIMED = new AtomicBoolean();
    private static final List<Runnable> ON_COMMIT = new CopyOnWriteArrayList<>();
    private static volatile long previousPid = -1;
    private static volatile boolean committed;
    private static final java.util.concurrent.CountDownLatch COMMITTED = new java.util.concurrent.CountDownLatch(1);

    /** True in a process started to take over ({@value Handover#ENV} set) that has not taken over yet. */
    public static boolean pending() {
        String path = System.getenv(Handover.ENV);
        return path != null && !path.isBlank() && !committed;
    }

    /** True once this process has taken over from the one that handed it its sockets. */
    public static boolean committed() {
        return committed;
    }

    /** The pid this process took over from, once it has. */
    public static Optional<Long> previousPid() {
        return committed && previousPid > 0 ? Optional.of(previousPid) : Optional.empty();
    }

    /** Runs {@code action} once this process has taken over (now, if it has); a throw is logged. */
    public static void onCommit(Runnable action) {
        if (committed) {
            run(action);
        } else {
            ON_COMMIT.add(action);
        }
    }

    /**
     * Blocks until this process has taken over, or {@code ctx} is stopping; returns at once in a
     * process not started to take over. For a socket that must not be served by two processes at
     * once (the control socket: "upgrade" sent to a new process that is not yet confirmed would
     * upgrade the wrong one): it is ready, but accepts only from the takeover on.
     */
    public static void awaitCommit(dev.governor.ServiceCtx ctx) throws InterruptedException {
        if (System.getenv(Handover.ENV) == null) {
            return;
        }
        while (!committed && !ctx.stopping()) {
            COMMITTED.await(50, java.util.concurrent.TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Fetches the sockets, once per process, if {@value Handover#ENV} is set: called when the first
     * governor is created, so before it binds anything (a service may settle a listener before
     * {@code start()}). Every socket is offered to {@code listeners()} under its name.
     */
    public static void fetchEarly() {
        String path = System.getenv(Handover.ENV);
        if (path == null || path.isBlank() || !CLAIMED.compareAndSet(false, true)) {
            return;
        }
        try {
            HandoverReceiver received = HandoverReceiver.fetch(Path.of(path), FETCH_TIMEOUT);
            Map<String, Integer> stdio = new LinkedHashMap<>();
            List<String> names = new java.util.ArrayList<>();
            for (HandoverReceiver.Socket s : received.sockets()) {
                if (s.entry().kind() == Kind.FILE) {
                    stdio.put(s.entry().name(), s.fd());
                } else {
                    HandedOverSockets.instance().offer(s.entry().name(), s.fd());
                    names.add(s.entry().name());
                }
            }
            LOG.info("upgrade: received {} listeners {} from pid {}", names.size(), names, received.senderPid());
            FETCHED = new Fetched(received, stdio, null);
        } catch (HandoverException | RuntimeException e) {
            LOG.error(
                    "upgrade: cannot take over from the process at {}: {}; this process will shut down",
                    path,
                    e.getMessage());
            FETCHED = new Fetched(null, Map.of(), e.getMessage());
        }
    }

    /** What {@link #fetchEarly()} got: the receiver, or why not. */
    private record Fetched(HandoverReceiver received, Map<String, Integer> stdio, String failure) {}

    private static volatile Fetched FETCHED;
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();

    @Override
    public void install(GovernorHooks hooks) {
        Fetched f = FETCHED;
        if (f == null || !INSTALLED.compareAndSet(false, true)) {
            return;
        }
        Governor gov = hooks.governor();
        if (f.failure() != null) {
            gov.requestShutdown("upgrade: " + f.failure());
            return;
        }
        hooks.addLifecycleListener(new Confirm(gov, f.received(), new LinkedHashMap<>(f.stdio())));
    }

    /** Tells the old process "ready" once, or why not. */
    private static final class Confirm implements LifecycleListener {
        private final Governor gov;
        private final HandoverReceiver received;
        private final Map<String, Integer> stdio;
        private final AtomicBoolean done = new AtomicBoolean();

        Confirm(Governor gov, HandoverReceiver received, Map<String, Integer> stdio) {
            this.gov = gov;
            this.received = received;
            this.stdio = stdio;
        }

        @Override
        public void ready() {
            if (!done.compareAndSet(false, true)) {
                return;
            }
            long from = received.senderPid();
            if (!received.ready(CONFIRM_TIMEOUT, this::adoptStdio)) {
                closeStdio();
                LOG.error(
                        "upgrade: pid {} did not confirm the takeover (it gave up on this process, or is gone); shutting down",
                        from);
                gov.requestShutdown("upgrade: pid " + from + " did not confirm the takeover");
                return;
            }
            previousPid = from;
            committed = true;
            COMMITTED.countDown();
            LOG.info("upgrade: took over from pid {}, which drains and exits", from);
            ON_COMMIT.forEach(Takeover::run);
            ON_COMMIT.clear();
        }

        @Override
        public void shutdownBegan(String reason) {
            if (done.compareAndSet(false, true)) {
                closeStdio();
                received.fail("it began shutting down before it was ready: " + reason);
            }
        }

        /** This process writes where the old one wrote from now on. */
        private void adoptStdio() {
            System.out.flush();
            System.err.flush();
            adopt(Stdio.OUT, 1);
            adopt(Stdio.ERR, 2);
            closeStdio();
        }

        private void adopt(String name, int target) {
            Integer fd = stdio.get(name);
            if (fd != null) {
                try {
                    Handover.redirect(fd, target);
                } catch (java.io.IOException e) {
                    LOG.warn("upgrade: cannot write to the old process's {}: {}", name, e.getMessage());
                }
            }
        }

        private void closeStdio() {
            stdio.values().forEach(Handover::close);
            stdio.clear();
        }
    }

    private static void run(Runnable action) {
        try {
            action.run();
        } catch (RuntimeException e) {
            LOG.error("upgrade: a take-over action failed: {}", e.toString(), e);
        }
    }

    @Override
    public String toString() {
        return "Takeover["
                + (committed
                        ? "took over from pid " + previousPid
                        : pending() ? "pending" : "not started by an upgrade")
                + "]";
    }
}
