package dev.governor.runtime.internal;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.ServiceConfig;
import dev.governor.ServiceCtx;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.Stoppable;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * A supervisor: configuration and membership under {@link #lock}; while it runs, a loop on its own
 * thread that alone acts on its children, fed by {@link Msg}s. While it does not run, the few
 * operations that make sense act directly under the lock.
 */
public final class SupervisorImpl implements Supervisor {
    private final Strategy strategy;
    private final boolean root;
    final ReentrantLock lock = new ReentrantLock();

    // membership, guarded by lock; children is kept in start (planned) order once planned
    private final ArrayList<Child> children = new ArrayList<>();
    private final HashMap<String, Child> byName = new HashMap<>();
    private volatile List<Child> view = List.of();
    private boolean viewStale;

    private volatile RestartPolicy defaultPolicy;
    private volatile int intensityMax;
    private volatile Duration intensityWindow = Duration.ZERO;
    private volatile boolean parallelStop;

    // attachment: guarded by lock
    private SupervisorImpl parentSup;
    private Child asChild;
    private volatile Tree tree;

    // the loop
    private boolean running;                                   // guarded by lock
    private LinkedBlockingQueue<Msg> mailbox;                  // replaced per run, under lock
    private volatile Thread loopThread;
    private volatile long busySince;                           // System.nanoTime() when a message began, 0 when idle
    private Consumer<Boolean> readySink = b -> {};
    private int notReady;      // children that keep this supervisor from being ready
    private int active;        // children running, waiting to start or to restart, or not yet started
    private int pending;       // children waiting to start
    private boolean lastReady;
    private boolean cancelled;
    private RuntimeException escalation;
    private final ArrayDeque<Instant> intensityTimes = new ArrayDeque<>();
    private final java.util.concurrent.atomic.AtomicInteger liveRuns = new java.util.concurrent.atomic.AtomicInteger();
    private volatile Thread allEndedWaiter;
    private final Thread.Builder.OfVirtual threads = Thread.ofVirtual(); // the loop's alone

    SupervisorImpl(Strategy strategy, Tree rootTree) {
        this.strategy = strategy;
        this.root = rootTree != null;
        this.tree = rootTree;
    }

    // ---- identity and attachment ----

    @Override
    public String name() {
        String p = pathOrNull();
        return p != null ? p : "(unattached " + strategy + " supervisor)";
    }

    /** The path once attached to a governor, else null. */
    String pathOrNull() {
        if (root) {
            return "";
        }
        Child me = asChild;
        return me == null || treeOrNull() == null ? null : me.path();
    }

    Tree treeOrNull() {
        Tree t = tree;
        if (t == null) {
            SupervisorImpl p = parentSup;
            if (p != null) {
                t = p.treeOrNull();
                if (t != null) {
                    tree = t;
                }
            }
        }
        return t;
    }

    boolean isRoot() {
        return root;
    }

    @Override
    public Strategy strategy() {
        return strategy;
    }

    boolean isParallelStop() {
        return parallelStop;
    }

    // ---- configuration ----

    @Override
    public ServiceConfig add(String name, Service service) {
        Checks.childName(name);
        if (service == null) {
            throw new IllegalArgumentException("service \"" + name + "\" must not be null");
        }
        if (service instanceof Governor) {
            throw new IllegalArgumentException("service \"" + name + "\" is a Governor: a Governor is a root and cannot be added as a child");
        }
        if (service == this) {
            throw new IllegalArgumentException("supervisor cannot be added to itself as \"" + name + "\"");
        }
        Tree t = treeOrNull();
        if (t != null && t.shuttingDown()) {
            throw new IllegalStateException("add(\"" + name + "\") after shutdown began: the governor accepts no new services");
        }
        Child child = new Child(this, name, service);
        SupervisorImpl sub = service instanceof SupervisorImpl s ? s : null;
        if (sub != null) {
            sub.attachTo(this, child);
        }
        lock.lock();
        try {
            if (byName.containsKey(name)) {
                if (sub != null) {
                    sub.detach();
                }
                throw new IllegalArgumentException("duplicate name \"" + name + "\" in supervisor \"" + name()
                        + "\": names must be unique among siblings");
            }
            byName.put(name, child);
            children.add(child);
            viewStale = true;
            child.publish(ServiceState.NEW);
        } finally {
            lock.unlock();
        }
        if (sub != null && t != null) {
            sub.republishSubtree();
        }
        return child;
    }

    private void attachTo(SupervisorImpl parent, Child child) {
        if (root) {
            throw new IllegalArgumentException("a Governor's root cannot be added as a child");
        }
        for (SupervisorImpl p = parent; p != null; p = p.parentSup) {
            if (p == this) {
                throw new IllegalArgumentException("supervisor " + this + " cannot be added inside its own subtree");
            }
        }
        lock.lock();
        try {
            if (parentSup != null) {
                throw new IllegalArgumentException("this Supervisor instance is already added as \"" + name()
                        + "\": an instance can be added only once");
            }
            parentSup = parent;
            asChild = child;
        } finally {
            lock.unlock();
        }
    }

    private void detach() {
        lock.lock();
        try {
            parentSup = null;
            asChild = null;
        } finally {
            lock.unlock();
        }
    }

    /** After attaching to a governor: snapshots carry the final paths and the tree counts them. */
    private void republishSubtree() {
        for (Child c : childrenView()) {
            c.publish(c.state);
            if (c.service instanceof SupervisorImpl s) {
                s.republishSubtree();
            }
        }
    }

    @Override
    public Supervisor restartPolicy(RestartPolicy policy) {
        if (policy == null) {
            throw new IllegalArgumentException("default restart policy of supervisor \"" + name() + "\" must not be null");
        }
        this.defaultPolicy = policy;
        return this;
    }

    RestartPolicy defaultPolicyForChildren() {
        RestartPolicy p = defaultPolicy;
        if (p != null) {
            return p;
        }
        SupervisorImpl parent = parentSup;
        return parent != null ? parent.defaultPolicyForChildren() : RestartPolicy.never();
    }

    @Override
    public Supervisor intensity(int maxRestarts, Duration window) {
        if (maxRestarts < 1) {
            throw new IllegalArgumentException("intensity maxRestarts must be >= 1, was " + maxRestarts);
        }
        Checks.positive(window, "intensity window");
        this.intensityWindow = window;
        this.intensityMax = maxRestarts;
        return this;
    }

    @Override
    public Supervisor parallelStop() {
        this.parallelStop = true;
        return this;
    }

    // ---- snapshots ----

    List<Child> childrenView() {
        List<Child> v = view;
        if (viewStale) {
            lock.lock();
            try {
                if (viewStale) {
                    v = List.copyOf(children);
                    view = v;
                    viewStale = false;
                } else {
                    v = view;
                }
            } finally {
                lock.unlock();
            }
        }
        return v;
    }

    void collect(List<ServiceInfo> out) {
        for (Child c : childrenView()) {
            out.add(c.info());
            if (c.service instanceof SupervisorImpl s) {
                s.collect(out);
            }
        }
    }

    /** Paths of runs that have not returned, depth first (racy by design: diagnostics only). */
    void collectLiveRuns(List<String> out) {
        for (Child c : childrenView()) {
            Run r = c.run;
            if (r != null && !r.exited()) {
                out.add(c.path() + (r.unstopped ? " (unstopped)" : ""));
            }
            if (c.service instanceof SupervisorImpl s) {
                s.collectLiveRuns(out);
            }
        }
    }

    Child child(String name) {
        lock.lock();
        try {
            return byName.get(name);
        } finally {
            lock.unlock();
        }
    }

    private Child requireChild(String name, String op) {
        Checks.childName(name);
        Child c = child(name);
        if (c == null) {
            throw new IllegalArgumentException(op + "(\"" + name + "\"): no child named \"" + name + "\" in supervisor \""
                    + name() + "\"; children: " + childrenView().stream().map(ch -> ch.name).toList());
        }
        return c;
    }

    /** Checks dependencies of this subtree: unknown names and cycles, naming them. */
    void validate() {
        plan(childrenView());
        for (Child c : childrenView()) {
            if (c.service instanceof SupervisorImpl s) {
                s.validate();
            }
        }
    }

    /**
     * Start order: add order, each child moved after its dependencies (a stable topological sort).
     *
     * @throws IllegalArgumentException naming an unknown dependency or the whole cycle
     */
    private List<Child> plan(List<Child> in) {
        boolean any = false;
        Map<String, Child> names = new HashMap<>();
        for (Child c : in) {
            names.put(c.name, c);
            any |= !c.dependencies().isEmpty();
        }
        if (!any) {
            return in;
        }
        for (Child c : in) {
            for (String d : c.dependencies()) {
                if (!names.containsKey(d)) {
                    throw new IllegalArgumentException("\"" + c.path() + "\" depends on unknown sibling \"" + d
                            + "\"; siblings: " + names.keySet().stream().sorted().toList());
                }
            }
        }
        List<Child> out = new ArrayList<>(in.size());
        Map<Child, Integer> mark = new HashMap<>();  // 1 visiting, 2 done
        for (Child c : in) {
            visit(c, names, mark, out, new ArrayList<>());
        }
        return out;
    }

    private void visit(Child c, Map<String, Child> names, Map<Child, Integer> mark, List<Child> out, List<String> stack) {
        Integer m = mark.get(c);
        if (m != null && m == 2) {
            return;
        }
        if (m != null) {
            List<String> cycle = new ArrayList<>(stack.subList(stack.indexOf(c.name), stack.size()));
            cycle.add(c.name);
            throw new IllegalArgumentException("dependency cycle in supervisor \"" + name() + "\": " + String.join(" -> ", cycle));
        }
        mark.put(c, 1);
        stack.add(c.name);
        for (String d : c.dependencies()) {
            visit(names.get(d), names, mark, out, stack);
        }
        stack.removeLast();
        mark.put(c, 2);
        out.add(c);
    }

    // ---- the loop ----

    void post(Msg m) {
        LinkedBlockingQueue<Msg> box = mailbox;
        if (box != null) {
            box.add(m);
        }
    }

    /** Called by each run of a child as it ends (on the run's thread). */
    void runEnded() {
        if (liveRuns.decrementAndGet() == 0) {
            Thread w = allEndedWaiter;
            if (w != null) {
                java.util.concurrent.locks.LockSupport.unpark(w);
            }
        }
    }

    /** Waits until no run of a child is alive or {@code d} passed. */
    private void awaitNoLiveRuns(Deadline d) {
        allEndedWaiter = Thread.currentThread();
        try {
            while (liveRuns.get() > 0 && !d.passed()) {
                java.util.concurrent.locks.LockSupport.park(this);
            }
        } finally {
            allEndedWaiter = null;
        }
    }

    long busyFor(long nowNanos) {
        long since = busySince;
        return since == 0 ? 0 : nowNanos - since;
    }

    @Override
    public void run(ServiceCtx ctx) throws Exception {
        Tree t = treeOrNull();
        if (t == null) {
            throw new IllegalStateException("supervisor " + this + " is not attached to a governor: add it to one before it runs");
        }
        Run self = ctx instanceof Run r ? r : null;
        List<Child> order;
        lock.lock();
        try {
            if (running) {
                throw new IllegalStateException("supervisor \"" + name() + "\" is already running");
            }
            order = plan(List.copyOf(children));
            children.clear();
            children.addAll(order);
            viewStale = true;
            running = true;
            mailbox = new LinkedBlockingQueue<>();
            loopThread = Thread.currentThread();
        } finally {
            lock.unlock();
        }
        t.runningLoops.add(this);
        cancelled = false;
        escalation = null;
        notReady = 0;
        lastReady = false;
        intensityTimes.clear();
        readySink = self != null ? self::setReady : b -> {};
        if (self != null) {
            self.onCancel(() -> post(new Msg.Cancel()));
        } else {
            Thread.ofVirtual().name(name() + "/cancel-watch").start(() -> {
                try {
                    ctx.awaitStop();
                } catch (InterruptedException ignored) {
                    // the loop is gone
                }
                post(new Msg.Cancel());
            });
        }
        try {
            for (Child c : order) {
                c.countedNotReady = false;
                c.countedActive = false;
                c.pendingStart = false;
            }
            active = 0;
            pending = 0;
            for (Child c : order) {
                if (c.removed) {
                    continue;
                }
                c.nextAttempt = 0;
                c.consecutiveRestarts = 0;
                c.restartTimes = null;
                c.ready = false;
                c.lastFailure = null;
                if (root && c.state != ServiceState.NEW) {
                    refresh(c);
                    continue; // the root runs once; a child stopped before start stays stopped
                }
                setPending(c, true);
                refresh(c);
            }
            startPending();
            publishReadiness();
            loop();
        } finally {
            stopAll();
            lock.lock();
            List<Msg> left = new ArrayList<>();
            try {
                running = false;
                loopThread = null;
                mailbox.drainTo(left);
                mailbox = null;
            } finally {
                lock.unlock();
            }
            t.runningLoops.remove(this);
            busySince = 0;
            for (Msg m : left) {
                if (m instanceof Msg.Call call) {
                    runDirect(call);
                }
            }
        }
        if (escalation != null) {
            throw escalation;
        }
    }

    private void loop() {
        LinkedBlockingQueue<Msg> box = mailbox;
        while (true) {
            Msg m;
            try {
                m = box.take();
            } catch (InterruptedException e) {
                return;
            }
            busySince = System.nanoTime() | 1;
            try {
                switch (m) {
                    case Msg.Cancel c -> {
                        cancelled = true;
                        return;
                    }
                    case Msg.Exited e -> onExit(e.child(), e.run());
                    case Msg.ReadyChanged r -> onReadyChanged(r.child(), r.run(), r.ready());
                    case Msg.RestartDue r -> onRestartDue(r.group(), r.token());
                    case Msg.Call call -> runCall(call);
                }
            } finally {
                busySince = 0;
            }
            if (escalation != null) {
                return;
            }
            if (!root && allEnded()) {
                return; // every child ended for good: this supervisor completes
            }
        }
    }

    private void runCall(Msg.Call call) {
        try {
            call.op().run();
            call.done().complete(null);
        } catch (Throwable t) {
            call.done().completeExceptionally(t);
        }
    }

    private void runDirect(Msg.Call call) {
        lock.lock();
        try {
            runCall(call);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code op} as the loop's work: posted to the running loop (waiting for it unless
     * {@code wait} is false), or directly under the lock when the loop does not run.
     */
    private void call(String what, Runnable op, boolean wait) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Msg.Call call = new Msg.Call(what, op, done);
        lock.lock();
        try {
            if (!running) {
                runCall(call);
            } else if (Thread.currentThread() == loopThread) {
                runCall(call);
            } else {
                mailbox.add(call);
            }
        } finally {
            lock.unlock();
        }
        if (!wait) {
            return;
        }
        try {
            done.get();
            Tree t = treeOrNull();
            if (t != null) {
                t.bus.flush(); // the events of the work reach listeners before the caller goes on
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted while waiting for supervisor \"" + name() + "\"", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(what + " failed", e.getCause());
        }
    }

    // ---- starting ----

    private void setPending(Child c, boolean value) {
        if (c.pendingStart != value) {
            c.pendingStart = value;
            pending += value ? 1 : -1;
        }
    }

    private void startPending() {
        if (pending == 0) {
            return;
        }
        Optional<Instant> now = null; // one timestamp for the children started by one message
        for (Child c : childrenView()) {
            if (c.pendingStart && !cancelled && depsReady(c)) {
                if (now == null) {
                    now = Optional.of(tree.now());
                }
                startChild(c, now);
            }
        }
    }

    private boolean depsReady(Child c) {
        for (String d : c.dependencies()) {
            Child dep = byNameUnlocked(d);
            if (dep != null && !(dep.run != null && dep.ready)) {
                return false;
            }
        }
        return true;
    }

    private Child byNameUnlocked(String name) {
        lock.lock();
        try {
            return byName.get(name);
        } finally {
            lock.unlock();
        }
    }

    private void startChild(Child c) {
        startChild(c, Optional.of(tree.now()));
    }

    private void startChild(Child c, Optional<Instant> now) {
        Tree t = tree;
        setPending(c, false);
        c.freeze();
        int attempt = c.nextAttempt++;
        Run r = new Run(t, c, this, c.path(), attempt);
        c.run = r;
        c.ready = false;
        c.startedAt = now;
        r.startedAt = now.get();
        Thread th = threads.name(c.path()).unstarted(r);
        r.thread = th;
        liveRuns.incrementAndGet();
        boolean readyNow = c.readyOnStart();
        c.ready = readyNow;
        c.publish(ServiceState.RUNNING); // STARTING is not published: nobody could act on it
        th.start();
        logInfo("started {} (attempt {})", c.path(), attempt);
        if (t.bus.hasListeners()) {
            t.publish(new GovernorEvent.Started(c.path(), r.startedAt, attempt));
            if (readyNow) {
                t.publish(new GovernorEvent.Ready(c.path(), r.startedAt));
            }
        }
        refresh(c);
    }

    private void markReady(Child c) {
        c.ready = true;
        c.publish();
        tree.publish(new GovernorEvent.Ready(c.path(), tree.now()));
    }

    private void onReadyChanged(Child c, Run r, boolean ready) {
        if (c.run != r || r.stopRequested || c.ready == ready) {
            return;
        }
        if (ready) {
            logDebug("{} is ready", c.path());
            markReady(c);
        } else {
            c.ready = false;
            c.publish();
        }
        refresh(c);
        startPending();
    }

    // ---- readiness ----

    /** Recounts {@code c} in {@link #notReady} and tells the parent when this supervisor's readiness changes. */
    private void refresh(Child c) {
        boolean blocking = !c.removed && (c.pendingStart || c.state == ServiceState.RESTARTING
                || (c.run != null && !c.run.stopRequested && !c.ready));
        if (blocking != c.countedNotReady) {
            c.countedNotReady = blocking;
            notReady += blocking ? 1 : -1;
        }
        boolean isActive = !c.removed && (c.run != null || c.pendingStart || !c.state.isTerminal());
        if (isActive != c.countedActive) {
            c.countedActive = isActive;
            active += isActive ? 1 : -1;
        }
        publishReadiness();
    }

    private void publishReadiness() {
        boolean ready = notReady == 0 && !cancelled;
        if (ready != lastReady) {
            lastReady = ready;
            readySink.accept(ready);
        }
    }

    // ---- a run ended ----

    private void onExit(Child c, Run r) {
        if (c.run != r) {
            return;
        }
        Tree t = tree;
        if (r.stopRequested) {
            if (r.unstopped) {  // a run reported unstopped ended late
                c.run = null;
                c.publish(ServiceState.STOPPED);
                t.publish(new GovernorEvent.Stopped(c.path(), t.now(), Duration.between(r.stopRequestedAt, r.endedAt)));
                refresh(c);
            }
            return;
        }
        c.run = null;
        c.ready = false;
        Throwable f = r.failure;
        Duration ran = Duration.between(r.startedAt, r.endedAt);
        RestartPolicy policy = c.effectivePolicy();
        policy.resetAfter().ifPresent(stable -> {
            if (ran.compareTo(stable) >= 0) {
                c.consecutiveRestarts = 0;
                if (c.restartTimes != null) {
                    c.restartTimes.clear();
                }
            }
        });
        StopServiceFinder.Found stop = StopServiceFinder.find(f);
        if (stop != null) {
            logInfo("{} stopped on purpose: {}", c.path(), stop.reason());
            c.publish(ServiceState.STOPPED);
            t.publish(new GovernorEvent.StoppedOnPurpose(c.path(), r.endedAt, stop.reason()));
        } else if (f instanceof VirtualMachineError fatal) {
            c.lastFailure = fatal;
            Tree.LOG.error("{} died of a fatal error; it is not restarted", c.path(), fatal);
            c.publish(ServiceState.FAILED);
            t.publish(new GovernorEvent.Failed(c.path(), r.endedAt, fatal));
            if (t.options.fatalErrorsShutDown()) {
                t.beginShutdown("fatal error in " + c.path() + ": " + fatal, t.options.fatalExitCode(), fatal);
            }
        } else if (f != null) {
            c.lastFailure = f;
            Tree.LOG.error("{} failed (attempt {})", c.path(), r.attempt(), f);
            c.publish();
            t.publish(new GovernorEvent.Failed(c.path(), r.endedAt, f));
            if (policy.restarts(true)) {
                restart(c, policy);
            } else {
                c.publish(ServiceState.FAILED);
            }
        } else {
            logInfo("{} completed", c.path());
            c.publish();
            t.publish(new GovernorEvent.Completed(c.path(), r.endedAt));
            if (policy.restarts(false)) {
                restart(c, policy);
            } else {
                c.publish(ServiceState.STOPPED);
            }
        }
        refresh(c);
        if (root && allEnded() && !t.shuttingDown()) {
            t.beginShutdown("every service has ended", 0, null);
        }
    }

    /** True when there is at least one child and none runs, waits to start or waits to restart. */
    private boolean allEnded() {
        return active == 0 && !childrenView().isEmpty();
    }

    private void restart(Child c, RestartPolicy policy) {
        Tree t = tree;
        if (cancelled || t.shuttingDown()) {
            c.publish(ServiceState.STOPPED);
            return;
        }
        Instant now = t.now();
        if (policy.maxRestarts() > 0) {
            if (c.restartTimes == null) {
                c.restartTimes = new ArrayDeque<>();
            }
            prune(c.restartTimes, now, policy.limitWindow());
            if (c.restartTimes.size() >= policy.maxRestarts()) {
                c.publish(ServiceState.FAILED);
                escalate(c.path(), c.restartTimes.size(), policy.limitWindow(),
                        c.path() + " would restart more than " + policy.maxRestarts() + " times within "
                                + policy.limitWindow() + " (its limit)");
                return;
            }
            c.restartTimes.addLast(now);
        }
        if (intensityMax > 0) {
            prune(intensityTimes, now, intensityWindow);
            if (intensityTimes.size() >= intensityMax) {
                c.publish(ServiceState.FAILED);
                escalate(name(), intensityTimes.size(), intensityWindow,
                        "supervisor \"" + name() + "\" would restart its children more than " + intensityMax
                                + " times within " + intensityWindow + " (its intensity); last: " + c.path());
                return;
            }
            intensityTimes.addLast(now);
        }
        Duration delay = policy.delayFor(c.consecutiveRestarts++, jitterRandom(policy));
        List<Child> group = restartGroup(c).stream()
                .filter(s -> s == c || s.run != null || s.state == ServiceState.RESTARTING)
                .toList();
        for (int i = group.size() - 1; i >= 0; i--) {
            Child sibling = group.get(i);
            if (sibling != c && sibling.run != null) {
                requestStop(sibling);
                finishStop(sibling, awaitStop(sibling));
            }
        }
        Object token = new Object();
        List<Child> toRestart = new ArrayList<>(group.size());
        for (Child sibling : group) {
            if (sibling != c && sibling.effectivePolicy().mode() == RestartPolicy.Mode.NEVER) {
                continue; // temporary: stopped with its siblings, never started again
            }
            if (sibling.run != null) {
                continue; // would not stop in time: left alone
            }
            sibling.restartToken = token;
            sibling.publish(ServiceState.RESTARTING);
            refresh(sibling);
            toRestart.add(sibling);
            logInfo("restarting {} in {} ms", sibling.path(), delay.toMillis());
            t.publish(new GovernorEvent.Restarting(sibling.path(), now, delay));
        }
        Msg due = new Msg.RestartDue(List.copyOf(toRestart), token);
        if (delay.isZero()) {
            post(due);
        } else {
            dev.governor.Scheduler.Cancellable timer = t.scheduler.schedule(delay, () -> post(due));
            for (Child s : toRestart) {
                s.restartTimer = timer;
            }
        }
    }

    private static double jitterRandom(RestartPolicy policy) {
        return ThreadLocalRandom.current().nextDouble(-1.0, Math.nextUp(1.0));
    }

    private static void prune(ArrayDeque<Instant> times, Instant now, Duration window) {
        Instant oldest = now.minus(window);
        while (!times.isEmpty() && !times.peekFirst().isAfter(oldest)) {
            times.removeFirst();
        }
    }

    private List<Child> restartGroup(Child c) {
        return switch (strategy) {
            case ONE_FOR_ONE -> List.of(c);
            case ONE_FOR_ALL -> childrenView().stream().filter(ch -> !ch.removed).toList();
            case REST_FOR_ONE -> {
                List<Child> all = childrenView();
                yield all.subList(all.indexOf(c), all.size()).stream().filter(ch -> !ch.removed).toList();
            }
        };
    }

    private void onRestartDue(List<Child> group, Object token) {
        if (cancelled || tree.shuttingDown()) {
            return;
        }
        for (Child c : group) {
            if (c.restartToken == token && c.state == ServiceState.RESTARTING) {
                c.restartToken = null;
                c.restartTimer = null;
                setPending(c, true);
                refresh(c);
            }
        }
        startPending();
    }

    private void escalate(String node, int restarts, Duration window, String why) {
        Tree t = tree;
        Tree.LOG.error("escalating: {}", why);
        t.publish(new GovernorEvent.Escalated(node, t.now(), restarts, window));
        EscalationException e = new EscalationException(why);
        if (root) {
            t.escalating = true;
            t.beginShutdown("escalation: " + why, t.options.escalationExitCode(), e);
        } else {
            escalation = e;
        }
    }

    // ---- stopping ----

    /** Cancels, calls Stoppable.stop() on its own thread, interrupts: the first half of a stop. */
    private void requestStop(Child c) {
        requestStop(c, tree.now());
    }

    private void requestStop(Child c, Instant now) {
        cancelRestart(c);
        Run r = c.run;
        if (r == null || r.stopRequested) {
            return;
        }
        r.stopRequested = true;
        r.stopRequestedAt = now;
        c.ready = false;
        c.publish(ServiceState.STOPPING);
        refresh(c);
        logDebug("stopping {}", c.path());
        r.cancel();
        if (c.service instanceof Stoppable s && !r.exited()) {
            Thread.ofVirtual().name(c.path() + "/stop").start(() -> {
                try {
                    s.stop();
                } catch (Throwable e) {
                    Tree.LOG.warn("{}: Stoppable.stop() threw; stopping goes on", c.path(), e);
                }
            });
        }
        if (!c.isSupervisor() && !r.waitingOnCtx()) {  // a thread parked on its ctx was woken by cancel()
            Thread th = r.thread;
            if (th != null) {
                th.interrupt();
            }
        }
    }

    /** The second half of a stop: waits for the run within its timeout (and the shutdown's); true if it ended. */
    private boolean awaitStop(Child c) {
        Run r = c.run;
        if (r == null) {
            return true;
        }
        Duration timeout = stopTimeout(c);
        Deadline d = Deadline.after(tree.scheduler, timeout);
        try {
            return r.awaitExit(d);
        } finally {
            d.cancel();
        }
    }

    private Duration stopTimeout(Child c) {
        Duration own = c.stopTimeout(tree.options.serviceShutdownTimeout());
        Duration left = tree.shutdownTimeLeft();
        if (left == null) {
            return own;
        }
        return own == null || left.compareTo(own) < 0 ? left : own;
    }

    private void finishStop(Child c, boolean ended) {
        finishStop(c, ended, tree.now());
    }

    private void finishStop(Child c, boolean ended, Instant now) {
        Run r = c.run;
        if (r == null) {
            return;
        }
        Tree t = tree;
        if (ended) {
            Duration took = Duration.between(r.stopRequestedAt, now);
            c.run = null;
            c.publish(ServiceState.STOPPED);
            logInfo("stopped {} in {} ms", c.path(), took.toMillis());
            t.recordStopTime(c.path(), took);
            if (t.bus.hasListeners()) {
                t.publish(new GovernorEvent.Stopped(c.path(), now, took));
            }
        } else {
            Duration waited = Duration.between(r.stopRequestedAt, now);
            r.unstopped = true;
            if (r.exited()) {  // it ended as the deadline passed: stopped after all
                finishStop(c, true, now);
                return;
            }
            Tree.LOG.warn("{} did not stop within {} ms: reported unstopped, going on", c.path(), waited.toMillis());
            t.recordUnstopped(c.path());
            t.publish(new GovernorEvent.StopTimedOut(c.path(), now, waited));
        }
        refresh(c);
    }

    private void cancelRestart(Child c) {
        if (c.restartTimer != null) {
            c.restartTimer.cancel();
            c.restartTimer = null;
        }
        c.restartToken = null;
        boolean wasWaiting = c.pendingStart || c.state == ServiceState.RESTARTING;
        setPending(c, false);
        if (wasWaiting && c.run == null) {
            c.publish(ServiceState.STOPPED);
        }
        refresh(c);
    }

    /** Stops every child in reverse start order (concurrently for a parallel-stop supervisor). */
    private void stopAll() {
        cancelled = true;
        List<Child> all = childrenView();
        for (Child c : all) {
            if (c.state == ServiceState.NEW && c.run == null) {
                setPending(c, false);
                c.publish(ServiceState.STOPPED); // never started, and now never will in this incarnation
                refresh(c);
            }
        }
        if (all.isEmpty()) {
            return;
        }
        if (parallelStop) {
            Instant requested = tree.now();
            for (int i = all.size() - 1; i >= 0; i--) {
                requestStop(all.get(i), requested);
            }
            Duration timeout = null;
            for (Child c : all) {
                if (c.run != null) {
                    Duration ct = stopTimeout(c);
                    timeout = ct == null || (timeout != null && timeout.compareTo(ct) > 0) ? timeout : ct;
                }
            }
            Deadline d = Deadline.after(tree.scheduler, timeout);
            try {
                awaitNoLiveRuns(d); // one wait for the whole pool, woken by the last run to end
                Instant now = tree.now();
                for (int i = all.size() - 1; i >= 0; i--) {
                    Child c = all.get(i);
                    if (c.run != null) {
                        boolean ended = c.run.exited() || c.run.awaitExit(d);
                        finishStop(c, ended, ended ? now : tree.now());
                    }
                }
            } finally {
                d.cancel();
            }
        } else {
            for (int i = all.size() - 1; i >= 0; i--) {
                Child c = all.get(i);
                requestStop(c);
                finishStop(c, awaitStop(c));
            }
        }
    }

    // ---- operations on one child ----

    @Override
    public void stopChild(String name) {
        Child c = requireChild(name, "stopChild");
        call("stopChild(\"" + name + "\")", () -> {
            if (c.removed) {
                return; // removed meanwhile: it is stopped already
            }
            if (running) {
                requestStop(c);
                finishStop(c, awaitStop(c));
            } else {
                cancelRestart(c);
                if (c.state == ServiceState.NEW) {
                    c.publish(ServiceState.STOPPED);
                }
            }
        }, !isOwnRun(c));
    }

    @Override
    public void restartChild(String name) {
        Child c = requireChild(name, "restartChild");
        call("restartChild(\"" + name + "\")", () -> {
            if (!running) {
                throw new IllegalStateException("restartChild(\"" + name + "\"): supervisor \"" + name()
                        + "\" is not running");
            }
            if (cancelled || tree.shuttingDown()) {
                throw new IllegalStateException("restartChild(\"" + name + "\"): shutdown has begun");
            }
            if (c.removed) {
                throw new IllegalArgumentException("restartChild(\"" + name + "\"): the child was removed meanwhile");
            }
            requestStop(c);
            finishStop(c, awaitStop(c));
            if (c.run == null) {
                logInfo("restarting {} on request", c.path());
                startChild(c);
            }
        }, !isOwnRun(c));
    }

    @Override
    public void removeChild(String name) {
        Child c = requireChild(name, "removeChild");
        call("removeChild(\"" + name + "\")", () -> {
            if (c.removed) {
                return;
            }
            if (running) {
                requestStop(c);
                finishStop(c, awaitStop(c));
            } else {
                cancelRestart(c);
            }
            lock.lock();
            try {
                if (byName.get(name) == c) {
                    byName.remove(name);
                    children.remove(c);
                    viewStale = true;
                }
            } finally {
                lock.unlock();
            }
            c.removed = true;
            refresh(c);
            uncountSubtree(c);
            logInfo("removed {}", c.path());
        }, !isOwnRun(c));
    }

    private static void uncountSubtree(Child c) {
        c.uncount();
        if (c.service instanceof SupervisorImpl s) {
            for (Child g : s.childrenView()) {
                uncountSubtree(g);
            }
        }
    }

    /** Starts a child added after the supervisor began running (ServiceConfig.start()). */
    void startChildNow(Child c) {
        Tree t = treeOrNull();
        if (t != null && t.shuttingDown()) {
            throw new IllegalStateException("start of \"" + c.path() + "\" after shutdown began");
        }
        call("start(\"" + c.name + "\")", () -> {
            if (!running || c.removed || c.run != null || c.state != ServiceState.NEW) {
                return;
            }
            List<String> missing = c.dependencies().stream().filter(d -> byNameUnlocked(d) == null).toList();
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("\"" + c.path() + "\" depends on unknown sibling(s) " + missing);
            }
            setPending(c, true);
            refresh(c);
            startPending();
        }, true);
    }

    /** Starts every child still NEW (Governor.start() called again). */
    void startNewChildren() {
        call("start()", () -> {
            if (!running) {
                return;
            }
            for (Child c : childrenView()) {
                if (c.state == ServiceState.NEW && c.run == null && !c.pendingStart) {
                    setPending(c, true);
                    refresh(c);
                }
            }
            startPending();
        }, true);
    }

    private static boolean isOwnRun(Child c) {
        return Run.CURRENT.isBound() && Run.CURRENT.get().child == c;
    }

    boolean isRunning() {
        lock.lock();
        try {
            return running;
        } finally {
            lock.unlock();
        }
    }

    private void logInfo(String fmt, Object a, Object b) {
        if (parallelStop) {
            Tree.LOG.debug(fmt, a, b);
        } else {
            Tree.LOG.info(fmt, a, b);
        }
    }

    private void logInfo(String fmt, Object a) {
        if (parallelStop) {
            Tree.LOG.debug(fmt, a);
        } else {
            Tree.LOG.info(fmt, a);
        }
    }

    private void logDebug(String fmt, Object a) {
        Tree.LOG.debug(fmt, a);
    }

    @Override
    public String toString() {
        return "Supervisor[" + name() + ", " + strategy + ", children=" + childrenView().size()
                + (parallelStop ? ", parallelStop" : "") + (intensityMax > 0 ? ", intensity " + intensityMax + "/" + intensityWindow : "")
                + "]";
    }
}
