package dev.governor.runtime.internal;

import dev.governor.AutoShutdown;
import dev.governor.GenerationBuilder;
import dev.governor.Governor;
import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.ServiceConfig;
import dev.governor.ServiceCtx;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A supervisor: configuration and membership under {@link #lock}; while it runs, a loop on its own
 * thread that alone acts on its children, fed by {@link Msg}s. While it does not run, the few
 * operations that make sense act directly under the lock.
 */
public final class SupervisorImpl implements Supervisor {
    private final Strategy strategy;
    private final boolean root;
    final ReentrantLock lock = new ReentrantLock();

    // membership, guarded by lock: the children in start (planned) order once planned, and by name
    private final ChildList children = new ChildList();
    private final NameIndex byName = new NameIndex();

    private volatile RestartPolicy defaultPolicy;
    private volatile int intensityMax = -1; // -1: unlimited
    private volatile AutoShutdown autoShutdown = AutoShutdown.NEVER;
    private volatile Duration intensityWindow = Duration.ZERO;
    private volatile boolean parallelStop;
    private volatile boolean syncReload;
    private volatile boolean dependsOnDeclared; // never cleared
    private volatile boolean supervisorAdded; // a child is a supervisor (or was): never cleared
    // guarded by lock: children holding the NEW snapshot all unattached children share (Child.publishNew), counted
    // until the subtree joins a tree: when all of them do, joining counts them without reading each one
    private int sharedNew;
    volatile ReloadableNode generationOf; // set on a generation of a reloadable node

    // attachment: guarded by lock
    private SupervisorImpl parentSup;
    private Child asChild;
    private volatile Tree tree;

    final LoopHost host = new LoopHost(this); // the loop of the current run, and the door to it

    SupervisorImpl(Strategy strategy, Tree rootTree) {
        this.strategy = strategy;
        this.root = rootTree != null;
        this.tree = rootTree;
        if (root) {
            byName.labelsMayBePaths();
        }
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

    /** The most restarts allowed within {@link #intensityWindow()}, or -1 when unlimited. */
    int intensityMax() {
        return intensityMax;
    }

    AutoShutdown autoShutdownMode() {
        return autoShutdown;
    }

    Duration intensityWindow() {
        return intensityWindow;
    }

    // ---- configuration ----

    @Override
    public ServiceConfig add(String name, Service service) {
        Checks.childName(name);
        if (service == null) {
            throw new IllegalArgumentException("service \"" + name + "\" must not be null");
        }
        if (service instanceof Governor) {
            throw new IllegalArgumentException(
                    "service \"" + name + "\" is a Governor: a Governor is a root and cannot be added as a child");
        }
        if (service == this) {
            throw new IllegalArgumentException("supervisor cannot be added to itself as \"" + name + "\"");
        }
        Tree t = treeOrNull();
        if (t != null && t.shuttingDown()) {
            throw new IllegalStateException(
                    "add(\"" + name + "\") after shutdown began: the governor accepts no new services");
        }
        return link(name, service, null);
    }

    /** Makes {@code service} the child {@code name}: last in start order, or right after {@code beside}. */
    private Child link(String name, Service service, Child beside) {
        Child child = new Child(this, name, service);
        SupervisorImpl sub = service instanceof SupervisorImpl s ? s : null;
        if (sub != null) {
            supervisorAdded = true; // before it is visible: a walk that finds it knows to descend
            sub.attachTo(this, child);
        }
        lock.lock();
        try {
            if (byName.putIfAbsent(child) != null) { // one lookup per add: a pool adds a million
                if (sub != null) {
                    sub.detach();
                }
                throw new IllegalArgumentException("duplicate name \"" + name + "\" in supervisor \"" + name()
                        + "\": names must be unique among siblings");
            }
            if (beside == null) {
                children.add(child);
            } else {
                children.addAfter(beside, child);
            }
            child.publishNew();
            if (child.sharesUnattachedNew()) {
                sharedNew++;
            }
        } finally {
            lock.unlock();
        }
        Tree t = sub == null ? null : treeOrNull();
        if (t != null) {
            sub.republishSubtree(t);
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
            byName.labelsMayBePaths(); // its children's paths exist from now on, and path() keeps them as labels
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

    /**
     * A subtree built before it joined a governor's tree: its nodes were published with no tree to
     * count them, so they are counted now (a pool of N made first would otherwise show N too few
     * "new" and then -N once they start) and published again with their paths.
     */
    private void republishSubtree(Tree t) {
        long[] added = new long[ServiceState.values().length];
        republish(added);
        t.countAdded(added); // once for the subtree: a pool of a million took the counts' lock a million times
    }

    private void republish(long[] added) {
        int n;
        boolean allNew;
        lock.lock();
        try {
            n = children.size();
            allNew = !supervisorAdded && sharedNew == n;
        } finally {
            lock.unlock();
        }
        if (allNew) { // a pool built before it joins: N children NEW, nothing to publish, none read
            added[ServiceState.NEW.ordinal()] += n;
            return;
        }
        for (Child c : childrenView()) {
            added[c.republish().ordinal()]++;
            if (c.isSupervisor()) { // the child's flag: the service's class missed the cache once per child
                ((SupervisorImpl) c.service).republish(added);
            }
        }
    }

    @Override
    public Supervisor restartPolicy(RestartPolicy policy) {
        if (policy == null) {
            throw new IllegalArgumentException(
                    "default restart policy of supervisor \"" + name() + "\" must not be null");
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
        if (maxRestarts < 0) {
            throw new IllegalArgumentException(
                    "intensity maxRestarts must be >= 0 (0: any restart escalates), was " + maxRestarts);
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

    @Override
    public ServiceConfig addReloadable(String name, GenerationBuilder builder) {
        return ReloadableNode.add(this, name, builder);
    }

    @Override
    public Supervisor syncReload() {
        this.syncReload = true;
        return this;
    }

    boolean isSyncReload() {
        return syncReload;
    }

    /** Adds {@code gen} as the child {@code name} right after {@code beside} in start order (a new generation). */
    Child addBeside(Child beside, String name, SupervisorImpl gen) {
        return link(name, gen, beside);
    }

    /** Gives a child another name (a generation being retired, or restored); its subtree's paths follow. */
    void rename(Child c, String newName) {
        lock.lock();
        try {
            if (byName.get(c.name()) != c) {
                throw new IllegalStateException(
                        "rename of \"" + c.name() + "\": no longer a child of \"" + name() + "\"");
            }
            if (byName.get(newName) != null) {
                throw new IllegalStateException(
                        "rename of \"" + c.name() + "\" to \"" + newName + "\": the name is taken");
            }
            byName.remove(c);
            c.rename(newName);
            byName.putIfAbsent(c);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Supervisor autoShutdown(AutoShutdown mode) {
        if (mode == null) {
            throw new IllegalArgumentException("autoShutdown of supervisor \"" + name()
                    + "\" must not be null; one of NEVER, ANY_SIGNIFICANT, ALL_SIGNIFICANT");
        }
        this.autoShutdown = mode;
        return this;
    }

    // ---- snapshots ----

    /** The children as they are now, in start order: an immutable list, safe to iterate without the lock. */
    List<Child> childrenView() {
        List<Child> v = children.view();
        if (v == null) {
            lock.lock();
            try {
                v = children.makeView();
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
            throw new IllegalArgumentException(op + "(\"" + name + "\"): no child named \"" + name
                    + "\" in supervisor \"" + name() + "\"; children: "
                    + childrenView().stream().map(Child::name).toList());
        }
        return c;
    }

    /** Checks dependencies of this subtree: unknown names and cycles, naming them. */
    void validate() {
        if (dependsOnDeclared) {
            StartOrder.of(name(), childrenView());
        }
        if (!supervisorAdded) {
            return; // no subtree below: a pool of a million is not walked to find none
        }
        for (Child c : childrenView()) {
            if (c.isSupervisor()) {
                ((SupervisorImpl) c.service).validate();
            }
        }
    }

    // ---- the loop: hosted by LoopHost ----

    void post(Msg m) {
        host.post(m);
    }

    /** Called by each run of a child as it ends (on the run's thread). */
    void runEnded() {
        host.runEnded();
    }

    /** When the message its loop has in hand began (tree clock, milliseconds), or SupervisorLoop.IDLE: no loop, or waiting. */
    long busySince() {
        return host.busySince();
    }

    boolean loopRunning() {
        return host.loopRunning();
    }

    @Override
    public void run(ServiceCtx ctx) throws Exception {
        Tree t = treeOrNull();
        if (t == null) {
            throw new IllegalStateException(
                    "supervisor " + this + " is not attached to a governor: add it to one before it runs");
        }
        host.run(ctx, t);
    }

    /** Puts the children in start order (dependencies first), checking them; the caller holds the lock. */
    List<Child> planStartOrder() {
        byName.dropHashes(); // filled: lookups by name are rare from now on
        List<Child> view = children.makeView();
        if (!dependsOnDeclared) {
            return view; // add order: no pass over a pool of a million to find that no child depends on another
        }
        List<Child> order = StartOrder.of(name(), view);
        children.replaceAll(order);
        return order;
    }

    /** A child of this unattached supervisor no longer holds the shared NEW snapshot (Child.publish, under the lock). */
    void leftSharedNew() {
        sharedNew--;
    }

    /** A child declared dependencies (Child.dependsOn, or a generation copying its predecessor's configuration). */
    void dependsOnDeclared() {
        dependsOnDeclared = true;
    }

    /** Whether a child ever declared dependencies: if not, the start order is the add order and nothing checks. */
    boolean anyDependsOn() {
        return dependsOnDeclared;
    }

    /** Takes {@code c} out of the membership (a removed child); the loop, or an idle caller, does the rest. */
    void unlink(Child c) {
        lock.lock();
        try {
            if (byName.remove(c)) {
                children.remove(c);
                if (c.sharesUnattachedNew()) {
                    leftSharedNew();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    // ---- operations on one child: messages to the loop (see SupervisorLoop.handle) ----

    @Override
    public void stopChild(String name) {
        Child c = requireChild(name, "stopChild");
        host.call(new Msg.StopChild(c, new CompletableFuture<>()), !isOwnRun(c));
    }

    @Override
    public void restartChild(String name) {
        Child c = requireChild(name, "restartChild");
        host.call(new Msg.RestartChild(c, new CompletableFuture<>()), !isOwnRun(c));
    }

    @Override
    public void removeChild(String name) {
        Child c = requireChild(name, "removeChild");
        host.call(new Msg.RemoveChild(c, new CompletableFuture<>()), !isOwnRun(c));
    }

    /** Starts a child added after the supervisor began running (ServiceConfig.start()). */
    void startChildNow(Child c) {
        Tree t = treeOrNull();
        if (t != null && t.shuttingDown()) {
            throw new IllegalStateException("start of \"" + c.path() + "\" after shutdown began");
        }
        host.call(new Msg.StartChild(c, new CompletableFuture<>()), true);
    }

    /** Starts every child still NEW (Governor.start() called again). */
    void startNewChildren() {
        host.call(new Msg.StartNewChildren(new CompletableFuture<>()), true);
    }

    private static boolean isOwnRun(Child c) {
        Run r = c.run; // set before the run's thread started, so its own thread sees it
        return Handoff.runsOnCurrentThread(r);
    }

    @Override
    public String toString() {
        return "Supervisor[" + name() + ", " + strategy + ", children="
                + childrenView().size()
                + (parallelStop ? ", parallelStop" : "")
                + (autoShutdown != AutoShutdown.NEVER ? ", autoShutdown " + autoShutdown : "")
                + (intensityMax >= 0 ? ", intensity " + intensityMax + "/" + intensityWindow : "")
                + "]";
    }
}
