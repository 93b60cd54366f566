package dev.governor.runtime.internal;

import dev.governor.Governor;
import dev.governor.GenerationBuilder;
import dev.governor.GovernorEvent;
import dev.governor.GovernorListener;
import dev.governor.GovernorOptions;
import dev.governor.Listeners;
import dev.governor.UpgradeOptions;
import dev.governor.UpgradeResult;
import dev.governor.ReloadHandler;
import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.ServiceConfig;
import dev.governor.ServiceCtx;
import dev.governor.ServiceInfo;
import dev.governor.ShutdownReport;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.runtime.GovernorExtension;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.LifecycleListener;
import dev.governor.runtime.listen.GovernorListeners;
import dev.governor.runtime.upgrade.ListenerHandouts;
import dev.governor.runtime.upgrade.Takeover;
import dev.governor.runtime.upgrade.Upgrader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.locks.LockSupport;

/**
 * The governor: the root supervisor, running on the thread {@code governor}, plus the process
 * around it: readiness, the shutdown sequence, signals, extensions and the final report.
 */
public final class GovernorImpl implements Governor {
    /** The least time listeners are given to hear the last events once the services have stopped. */
    private static final Duration FINAL_FLUSH = Duration.ofMillis(500);
    private final GovernorOptions options;
    private final Tree tree;
    private final SupervisorImpl root;
    private final Run rootRun;
    private final Run globalRun;
    private final Hooks hooks = new Hooks();
    private final GovernorListeners listeners;
    private final Upgrader upgrader;
    private final Reloads reloads;
    private final CompletableFuture<ShutdownReport> terminated = new CompletableFuture<>();
    private final List<Thread> readyWaiters = new ArrayList<>();   // guarded by this

    private volatile Duration shutdownTimeout;
    private volatile ReloadHandler reloadHandler;
    // guarded by this
    private boolean started;
    private boolean signalsCaught;
    private volatile boolean shutdownBegun;
    private boolean signalledShutdown;
    private String lastSignal;       // the INT or TERM that began the shutdown, and when
    private long lastSignalNanos;
    private volatile boolean rootReady;
    private boolean everReady;   // logging only: the governor thread's
    private Instant lastReadinessLog;  // logging only: when a readiness change was last logged at INFO
    private int unloggedReadinessChanges;
    private Instant shutdownStartedAt;
    private int exitCode;
    private Throwable fatalCause;
    private String shutdownReason;

    GovernorImpl(GovernorOptions options) {
        this.options = options;
        this.tree = new Tree(this, options);
        this.root = new SupervisorImpl(Strategy.ONE_FOR_ONE, tree);
        this.rootRun = new Run(tree, null, null, "", 0);
        this.globalRun = new Run(tree, null, null, "", 0);
        this.shutdownTimeout = options.shutdownTimeout();
        Takeover.fetchEarly(); // started by an upgrade: the sockets are this process's before anything binds
        this.listeners = GovernorListeners.forProcess(options.systemd());
        this.upgrader = new Upgrader(this, new ListenerHandouts(this, listeners), event -> tree.publish(event));
        this.reloads = new Reloads(tree, root);
    }

    public GovernorHooks hooks() {
        return hooks;
    }

    // ---- configuration ----

    @Override
    public String name() {
        return "";
    }

    @Override
    public Strategy strategy() {
        return Strategy.ONE_FOR_ONE;
    }

    @Override
    public ServiceConfig add(String name, Service service) {
        return root.add(name, service);
    }

    @Override
    public Governor catchSignals() {
        synchronized (this) {
            if (signalsCaught) {
                return this;
            }
            signalsCaught = true;
        }
        Signals.register(this);
        return this;
    }

    @Override
    public Governor restart(Duration after) {
        return restartPolicy(RestartPolicy.always(after));
    }

    @Override
    public Governor restartPolicy(RestartPolicy policy) {
        root.restartPolicy(policy);
        return this;
    }

    @Override
    public Governor intensity(int maxRestarts, Duration window) {
        root.intensity(maxRestarts, window);
        return this;
    }

    @Override
    public Governor parallelStop() {
        root.parallelStop();
        return this;
    }

    /** Accepted for the interface; the root ignores it: its natural end is judged on services. */
    @Override
    public Governor autoShutdown(dev.governor.AutoShutdown mode) {
        root.autoShutdown(mode);
        return this;
    }

    @Override
    public ServiceConfig addReloadable(String name, GenerationBuilder builder) {
        return root.addReloadable(name, builder);
    }

    @Override
    public Governor syncReload() {
        root.syncReload();
        return this;
    }

    @Override
    public Governor reloadTimeout(Duration timeout) {
        reloads.timeout(timeout);
        return this;
    }

    @Override
    public Governor shutdownTimeout(Duration timeout) {
        this.shutdownTimeout = Checks.positive(timeout, "shutdownTimeout");
        return this;
    }

    @Override
    public Governor onReload(ReloadHandler handler) {
        if (handler == null) {
            throw new IllegalArgumentException("reload handler must not be null");
        }
        this.reloadHandler = handler;
        return this;
    }

    @Override
    public Governor onEvent(GovernorListener listener) {
        if (listener == null) {
            throw new IllegalArgumentException("listener must not be null");
        }
        tree.bus.addListener(listener);
        return this;
    }

    @Override
    public GovernorOptions options() {
        return options;
    }

    @Override
    public Listeners listeners() {
        return listeners;
    }

    @Override
    public UpgradeResult upgrade(UpgradeOptions options) {
        return upgrader.upgrade(options);
    }

    // ---- running ----

    @Override
    public Governor start() {
        synchronized (this) {
            if (shutdownBegun) {
                throw new IllegalStateException("start() after shutdown began: a governor runs once");
            }
            if (started) {
                root.startNewChildren();
                return this;
            }
            root.validate();
            started = true;
        }
        WaitPathTraining.beforeStart(this, root);
        LoggingCheck.warnOnceIfNoProvider(System.err);
        installExtensions();
        Tree.LOG.info("governor starting {} service(s)", root.childrenView().size());
        Thread.ofVirtual().name("governor").start(this::runRoot);
        return this;
    }

    private void installExtensions() {
        for (ServiceLoader.Provider<GovernorExtension> p : ServiceLoader.load(GovernorExtension.class,
                GovernorImpl.class.getClassLoader()).stream().toList()) {
            try {
                p.get().install(hooks);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable e) {
                Tree.LOG.error("extension {} failed to install; the governor runs without it", p.type().getName(), Untrusted.loggable(e));
            }
        }
    }

    private void runRoot() {
        Throwable unexpected = null;
        try {
            root.run(rootRun);
        } catch (Throwable t) {
            unexpected = t;
            Tree.LOG.error("the root supervisor failed", t);
        }
        finish(unexpected);
    }

    void rootReady(boolean ready) {
        boolean changed;
        synchronized (this) {
            changed = rootReady != ready && !shutdownBegun;
            rootReady = ready;
            if (changed && ready) {
                readyWaiters.forEach(LockSupport::unpark);
            }
        }
        if (changed) {
            logReadiness(ready);
        }
        if (changed && ready) {
            everReady = true;
            tree.publish(new GovernorEvent.Ready("", tree.now()));
            tree.bus.lifecycle(LifecycleListener::ready);
        }
    }

    /**
     * The first readiness, and every change at most once a second at INFO (the others at DEBUG,
     * counted in the next INFO line): a pool of workers backing off would otherwise flood the log.
     */
    private void logReadiness(boolean ready) {
        if (!ready && !everReady) {
            return; // not ready yet: nothing changed for anyone
        }
        String line = ready ? (everReady ? "governor ready again: {}" : "governor ready: {}") : "governor not ready: {}";
        Instant now = tree.now();
        Instant last = lastReadinessLog;
        if (last == null || Duration.between(last, now).compareTo(Duration.ofSeconds(1)) >= 0) {
            lastReadinessLog = now;
            int skipped = unloggedReadinessChanges;
            unloggedReadinessChanges = 0;
            Tree.LOG.info(skipped == 0 ? line : line + " (and {} changes since the last such line, logged at DEBUG)",
                    tree.statusLine(), skipped);
        } else {
            unloggedReadinessChanges++;
            Tree.LOG.debug(line, tree.statusLine());
        }
    }

    @Override
    public boolean isReady() {
        return rootReady && !shutdownBegun;
    }

    @Override
    public boolean awaitReady(Duration timeout) throws InterruptedException {
        Checks.notNegative(timeout, "awaitReady timeout");
        if (isReady()) {
            return true;
        }
        Thread me = Thread.currentThread();
        synchronized (this) {
            readyWaiters.add(me);
        }
        Deadline d = Deadline.after(tree.scheduler, timeout);
        try {
            while (!isReady() && !shutdownBegun && !d.passed()) {
                LockSupport.park(this);
                if (Thread.interrupted()) {
                    throw new InterruptedException("interrupted while awaiting readiness");
                }
            }
            return isReady();
        } finally {
            d.cancel();
            synchronized (this) {
                readyWaiters.remove(me);
            }
        }
    }

    // ---- shutdown ----

    @Override
    public boolean stopping() {
        return shutdownBegun;
    }

    @Override
    public ServiceCtx globalContext() {
        return globalRun;
    }

    @Override
    public boolean sleep(Duration duration) {
        return globalRun.sleep(duration);
    }

    @Override
    public void requestShutdown(String reason) {
        beginShutdown(reason == null ? "requested" : reason, 0, null);
    }

    @Override
    public void shutdown() {
        beginShutdown("shutdown() called", 0, null);
        if (calledFromInside()) {
            return;
        }
        awaitTermination();
    }

    @Override
    public void close() {
        shutdown();
    }

    @Override
    public ShutdownReport waitForShutdown() {
        synchronized (this) {
            if (!started && !shutdownBegun) {
                throw new IllegalStateException("waitForShutdown() before start(): nothing would ever stop");
            }
        }
        if (calledFromInside()) {
            throw new IllegalStateException("waitForShutdown() from inside a service or listener of this governor would wait for itself");
        }
        return awaitTermination();
    }

    private boolean calledFromInside() {
        if (EventBus.delivering()) {
            return true;
        }
        Child c = find(Thread.currentThread().getName()); // a run's thread is named after its path
        Run r = c == null ? null : c.run;
        return r != null && r.isCurrentThread();
    }

    private ShutdownReport awaitTermination() {
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

    void beginShutdown(String reason, int code, Throwable cause) {
        boolean wasStarted;
        synchronized (this) {
            if (shutdownBegun) {
                return;
            }
            shutdownBegun = true;
            shutdownStartedAt = tree.now();
            exitCode = code;
            fatalCause = cause;
            shutdownReason = reason;
            wasStarted = started;
            readyWaiters.forEach(LockSupport::unpark);
        }
        Tree.LOG.info("shutting down: {}", reason);
        tree.publish(new GovernorEvent.ShutdownRequested("", shutdownStartedAt, reason));
        tree.bus.lifecycle(l -> l.shutdownBegan(reason));
        globalRun.cancel();
        if (!wasStarted) {
            finish(null);
            return;
        }
        Thread.ofVirtual().name("governor-shutdown").start(() -> {
            // systemd (STOPPING=1) and /readyz hear of it before anything stops; a slow listener of
            // the user's is not waited for, and nothing is waited for longer than the shutdown bound
            tree.bus.flushLifecycle(shutdownTimeout);
            Duration drain = options.drainDelay();
            if (!drain.isZero()) {
                Tree.LOG.info("draining for {} ms before stopping services", drain.toMillis());
                new Run(tree, null, null, "", 0).sleep(drain);
            }
            tree.setShutdownDeadline(Checks.plusSaturated(tree.now(), shutdownTimeout));
            rootRun.cancel();
        });
    }

    private void finish(Throwable unexpected) {
        ShutdownReport report;
        synchronized (this) {
            if (terminated.isDone()) {
                return;
            }
            if (!shutdownBegun) {  // the root ended without a shutdown: only by a bug
                shutdownBegun = true;
                shutdownStartedAt = tree.now();
                exitCode = options.fatalExitCode();
                fatalCause = unexpected;
            }
            Map<String, Duration> stops = new LinkedHashMap<>();
            tree.stopTimes().forEach(e -> stops.put(e.getKey(), e.getValue()));
            report = new ShutdownReport(exitCode, Duration.between(shutdownStartedAt, tree.now()), stops,
                    tree.unstopped(), Optional.ofNullable(fatalCause));
        }
        Tree.LOG.info("governor stopped in {} ms, exit code {}{}", report.duration().toMillis(), report.exitCode(),
                report.unstopped().isEmpty() ? "" : ", unstopped: " + report.unstopped());
        tree.bus.lifecycle(l -> l.stopped(report));
        Duration left = tree.shutdownTimeLeft();
        tree.bus.flush(left == null || left.compareTo(FINAL_FLUSH) < 0 ? FINAL_FLUSH : left); // listeners hear the end, within the bound
        listeners.close();
        Signals.unregister(this);
        terminated.complete(report);
    }

    /**
     * Called by the signal handler: a second INT/TERM during shutdown ends the process at once,
     * unless it is the same signal within {@link Signals#SAME_REQUEST_NANOS} of the first (one
     * request delivered twice, as timeout(1) does to the pid and then its process group).
     */
    void onSignal(String signal, int number) {
        switch (signal) {
            case "HUP" -> {
                if ((reloadHandler != null || reloads.any()) && !shutdownBegun) {
                    Thread.ofVirtual().name("governor-reload").start(this::reload);
                } else {
                    beginShutdown("SIGHUP (no reload handler)", 0, null);
                }
            }
            case "USR1" -> {
                if (!shutdownBegun) {
                    // a platform thread: the upgrade waits in native calls
                    Thread.ofPlatform().name("governor-upgrade").start(() -> upgrade(UpgradeOptions.defaults()));
                } else {
                    Tree.LOG.warn("SIGUSR1 during shutdown: upgrade refused");
                }
            }
            default -> {
                boolean second;
                long now = System.nanoTime();
                synchronized (this) {
                    if (signalledShutdown && signal.equals(lastSignal) && now - lastSignalNanos < Signals.SAME_REQUEST_NANOS) {
                        Tree.LOG.info("SIG{} again within {} ms: the same request (timeout(1) signals the pid, then its group)",
                                signal, Signals.SAME_REQUEST_NANOS / 1_000_000);
                        return;
                    }
                    second = signalledShutdown;
                    signalledShutdown = true;
                    lastSignal = signal;
                    lastSignalNanos = now;
                }
                if (second && !terminated.isDone()) {
                    Tree.LOG.error("second SIG{} during shutdown: exiting now with {}", signal, 128 + number);
                    Runtime.getRuntime().halt(128 + number);
                }
                beginShutdown("SIG" + signal, 0, null);
            }
        }
    }

    boolean terminatedAlready() {
        return terminated.isDone();
    }

    @Override
    public boolean reload() {
        return reloads.reload(this, reloadHandler);
    }

    // ---- the tree ----

    @Override
    public List<ServiceInfo> services() {
        List<ServiceInfo> out = new ArrayList<>();
        root.collect(out);
        return out;
    }

    @Override
    public Optional<ServiceInfo> service(String path) {
        if (path == null) {
            throw new IllegalArgumentException("path must not be null");
        }
        Child c = find(path);
        return c == null ? Optional.empty() : Optional.of(c.info());
    }

    /** The node at {@code path}, or null. */
    private Child find(String path) {
        SupervisorImpl at = root;
        Child c = null;
        for (String part : path.split("/", -1)) {
            if (at == null || part.isEmpty()) {
                return null;
            }
            c = at.child(part);
            if (c == null) {
                return null;
            }
            at = c.service instanceof SupervisorImpl s ? s : null;
        }
        return c;
    }

    /** The supervisor that owns {@code path} and the child's name within it. */
    private Map.Entry<SupervisorImpl, String> owner(String path, String op) {
        if (path == null) {
            throw new IllegalArgumentException(op + ": name must not be null");
        }
        int slash = path.lastIndexOf('/');
        if (slash < 0) {
            return Map.entry(root, path);
        }
        Child parent = find(path.substring(0, slash));
        if (parent == null || !(parent.service instanceof SupervisorImpl s)) {
            throw new IllegalArgumentException(op + "(\"" + path + "\"): no supervisor at \"" + path.substring(0, slash) + "\"");
        }
        return Map.entry(s, path.substring(slash + 1));
    }

    @Override
    public void stopChild(String name) {
        var o = owner(name, "stopChild");
        o.getKey().stopChild(o.getValue());
    }

    @Override
    public void restartChild(String name) {
        var o = owner(name, "restartChild");
        o.getKey().restartChild(o.getValue());
    }

    @Override
    public void removeChild(String name) {
        var o = owner(name, "removeChild");
        o.getKey().removeChild(o.getValue());
    }

    @Override
    public void run(ServiceCtx ctx) {
        throw new UnsupportedOperationException("a Governor is the root of its tree: start() it, do not run it as a service");
    }

    @Override
    public String toString() {
        return "Governor[" + (shutdownBegun ? (terminated.isDone() ? "stopped" : "stopping: " + shutdownReason)
                : started ? (isReady() ? "ready" : "starting") : "new") + ", " + tree.statusLine() + "]";
    }

    /** The runtime's view for extensions and the runtime's public packages. */
    private final class Hooks implements GovernorHooks {
        @Override
        public Governor governor() {
            return GovernorImpl.this;
        }

        @Override
        public void addLifecycleListener(LifecycleListener listener) {
            if (listener == null) {
                throw new IllegalArgumentException("lifecycle listener must not be null");
            }
            tree.bus.addLifecycle(listener);
        }

        @Override
        public boolean healthy() {
            return tree.healthy();
        }

        @Override
        public String statusLine() {
            return tree.statusLine();
        }

        @Override
        public List<dev.governor.runtime.ReloadableStatus> reloadables() {
            return reloads.status();
        }

        @Override
        public String lastReloadError() {
            return reloads.lastError();
        }

        @Override
        public List<String> liveThreads() {
            return tree.liveThreads(root);
        }

        @Override
        public String toString() {
            return "GovernorHooks[" + GovernorImpl.this + "]";
        }
    }
}
