package dev.governor.runtime.internal;

import dev.governor.GenerationBuilder;
import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorListener;
import dev.governor.GovernorOptions;
import dev.governor.Listeners;
import dev.governor.ReloadHandler;
import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.ServiceConfig;
import dev.governor.ServiceCtx;
import dev.governor.ServiceInfo;
import dev.governor.ShutdownReport;
import dev.governor.Strategy;
import dev.governor.UpgradeOptions;
import dev.governor.UpgradeResult;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.LifecycleListener;
import dev.governor.runtime.listen.GovernorListeners;
import dev.governor.runtime.upgrade.ListenerHandouts;
import dev.governor.runtime.upgrade.Takeover;
import dev.governor.runtime.upgrade.Upgrader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/**
 * The governor: the root supervisor, running on the thread {@code governor}, plus the process
 * around it: readiness, the shutdown sequence, signals, extensions and the final report.
 */
public final class GovernorImpl implements Governor {
    private final GovernorOptions options;
    private final Tree tree;
    private final SupervisorImpl root;
    private final Run rootRun;
    private final Run globalRun;
    private final HooksImpl hooks;
    private final GovernorListeners listeners;
    private final Upgrader upgrader;
    private final Reloads reloads;
    private final CompletableFuture<ShutdownReport> terminated = new CompletableFuture<>();
    private final ShutdownSequence shutdownSequence;
    private final List<Thread> readyWaiters = new ArrayList<>(); // guarded by this

    /** Where the governor is in its life: replaced under this object's lock, read without it. */
    private volatile GovernorPhase phase = GovernorPhase.NEW;

    private volatile Duration shutdownTimeout;
    private volatile ReloadHandler reloadHandler;
    private boolean signalsCaught; // guarded by this
    private final ReadinessLog readinessLog;

    GovernorImpl(GovernorOptions options) {
        this.options = options;
        this.tree = new Tree(this, options);
        this.root = new SupervisorImpl(Strategy.ONE_FOR_ONE, tree);
        this.rootRun = new Run(root, null, "", 0);
        this.globalRun = new Run(root, null, "", 0);
        this.shutdownTimeout = options.shutdownTimeout();
        Takeover.fetchEarly(); // started by an upgrade: the sockets are this process's before anything binds
        this.listeners = GovernorListeners.forProcess(options.systemd());
        this.upgrader = new Upgrader(this, new ListenerHandouts(this, listeners), event -> tree.publish(event));
        this.reloads = new Reloads(tree, root);
        this.shutdownSequence = new ShutdownSequence(this, tree, rootRun, listeners, terminated);
        this.hooks = new HooksImpl(this, tree, root, reloads);
        this.readinessLog = new ReadinessLog(tree);
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
            if (phase.stopping()) {
                throw new IllegalStateException("start() after shutdown began: a governor runs once");
            }
            if (phase.started()) {
                root.startNewChildren();
                return this;
            }
            root.validate();
            phase = phase.withStarted();
        }
        WaitPathTraining.beforeStart(this, root);
        LoggingCheck.warnOnceIfNoProvider(System.err);
        hooks.installExtensions();
        Tree.LOG.info("governor starting {} service(s)", root.childrenView().size());
        Thread.ofVirtual().name("governor").start(this::runRoot);
        return this;
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
            GovernorPhase p = phase;
            changed = p.rootReady() != ready && !p.stopping();
            phase = p.withRootReady(ready);
            if (changed && ready) {
                readyWaiters.forEach(LockSupport::unpark);
            }
        }
        if (changed) {
            readinessLog.changed(ready);
        }
        if (changed && ready) {
            tree.publish(new GovernorEvent.Ready("", tree.now()));
            tree.bus.lifecycle(LifecycleListener::ready);
        }
    }

    @Override
    public boolean isReady() {
        return phase.ready();
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
            while (!isReady() && !stopping() && !d.passed()) {
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
        return phase.stopping();
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
        if (TreePaths.calledFromInside(root)) {
            return;
        }
        shutdownSequence.awaitReport();
    }

    @Override
    public void close() {
        shutdown();
    }

    @Override
    public ShutdownReport waitForShutdown() {
        if (!phase.started() && !phase.stopping()) {
            throw new IllegalStateException("waitForShutdown() before start(): nothing would ever stop");
        }
        if (TreePaths.calledFromInside(root)) {
            throw new IllegalStateException(
                    "waitForShutdown() from inside a service or listener of this governor would wait for itself");
        }
        return shutdownSequence.awaitReport();
    }

    void beginShutdown(String reason, int code, Throwable cause) {
        GovernorPhase p;
        synchronized (this) {
            if (phase.stopping()) {
                return;
            }
            p = phase.withShutdown(reason, tree.now(), code, cause);
            phase = p;
            readyWaiters.forEach(LockSupport::unpark);
        }
        Tree.LOG.info("shutting down: {}", reason);
        tree.publish(new GovernorEvent.ShutdownRequested("", p.shutdownStartedAt(), reason));
        tree.bus.lifecycle(l -> l.shutdownBegan(reason));
        globalRun.cancel();
        if (!p.started()) {
            finish(null);
            return;
        }
        shutdownSequence.stopServices(shutdownTimeout);
    }

    /** The root's run ended (or never started): the report, once. */
    private void finish(Throwable unexpected) {
        GovernorPhase p;
        synchronized (this) {
            if (phase.finished()) {
                return;
            }
            if (!phase.stopping()) { // the root ended without a shutdown: only by a bug
                phase = phase.withShutdown(
                        "the root supervisor ended by itself", tree.now(), options.fatalExitCode(), unexpected);
            }
            p = phase.withFinished();
            phase = p;
        }
        shutdownSequence.finish(p);
    }

    /**
     * Called by the signal handler: a second INT/TERM during shutdown ends the process at once,
     * unless it is the same signal within {@link Signals#SAME_REQUEST_NANOS} of the first (one
     * request delivered twice, as timeout(1) does to the pid and then its process group).
     */
    void onSignal(String signal, int number) {
        switch (signal) {
            case "HUP" -> {
                if ((reloadHandler != null || reloads.any()) && !stopping()) {
                    Thread.ofVirtual().name("governor-reload").start(this::reload);
                } else {
                    beginShutdown("SIGHUP (no reload handler)", 0, null);
                }
            }
            case "USR1" -> {
                if (!stopping()) {
                    // a platform thread: the upgrade waits in native calls
                    Thread.ofPlatform().name("governor-upgrade").start(() -> upgrade(UpgradeOptions.defaults()));
                } else {
                    Tree.LOG.warn("SIGUSR1 during shutdown: upgrade refused");
                }
            }
            default -> shutdownSequence.onTerminationSignal(signal, number);
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
        Child c = TreePaths.find(root, path);
        return c == null ? Optional.empty() : Optional.of(c.info());
    }

    @Override
    public void stopChild(String name) {
        var o = TreePaths.owner(root, name, "stopChild");
        o.getKey().stopChild(o.getValue());
    }

    @Override
    public void restartChild(String name) {
        var o = TreePaths.owner(root, name, "restartChild");
        o.getKey().restartChild(o.getValue());
    }

    @Override
    public void removeChild(String name) {
        var o = TreePaths.owner(root, name, "removeChild");
        o.getKey().removeChild(o.getValue());
    }

    @Override
    public void run(ServiceCtx ctx) {
        throw new UnsupportedOperationException(
                "a Governor is the root of its tree: start() it, do not run it as a service");
    }

    @Override
    public String toString() {
        GovernorPhase p = phase;
        return "Governor["
                + (p.stopping()
                        ? (terminated.isDone() ? "stopped" : "stopping: " + p.shutdownReason())
                        : p.started() ? (p.ready() ? "ready" : "starting") : "new")
                + ", " + tree.statusLine() + "]";
    }
}
