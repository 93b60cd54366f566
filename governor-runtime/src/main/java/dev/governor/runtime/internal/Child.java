package dev.governor.runtime.internal;

import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.ServiceConfig;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * One child of a supervisor: its configuration (the {@link ServiceConfig} returned by {@code add}),
 * the loop-owned state of its current incarnation, and the immutable snapshot others read.
 */
final class Child extends ChildState implements ServiceConfig {
    final SupervisorImpl parent;
    /**
     * The name, or the path as last built (which ends with "/" and the name: names hold no '/').
     * One string for both: the path names the run's thread (documented), so a pool of a million
     * would otherwise keep a million names next to a million paths (48 bytes each). Changed by a
     * rename (a reload retiring a generation) or by {@link #path()} with a CAS, so that a path
     * built from the old name never overwrites a rename.
     */
    private volatile String label;

    final Service service;

    // configuration: written before the first start, read by the loop after. A child configured with
    // none of it (every service of a pool, typically) shares ChildConfig.DEFAULTS: 16 bytes less per child
    private volatile ChildConfig config = ChildConfig.DEFAULTS;

    private volatile Snapshot snapshot;

    private static final VarHandle LABEL;

    static {
        try {
            LABEL = MethodHandles.lookup().findVarHandle(Child.class, "label", String.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    Child(SupervisorImpl parent, String name, Service service) {
        this.parent = parent;
        this.label = name;
        this.service = service;
        if (service instanceof SupervisorImpl) {
            markSupervisor();
        }
    }

    /** This child's name among its siblings (a new string once the label is a path: for messages, not hot paths). */
    String name() {
        String l = label;
        int slash = l.lastIndexOf('/');
        return slash < 0 ? l : l.substring(slash + 1);
    }

    /** The name, or the path ending with it (see NameIndex.hasName). */
    String label() {
        return label;
    }

    /** Whether this child is named {@code n}, without making its name. */
    boolean hasName(String n) {
        return NameIndex.hasName(label, n);
    }

    /** Gives this child another name (SupervisorImpl.rename, under its lock; the index follows). */
    void rename(String newName) {
        label = newName;
    }

    /** Path from the root, once the subtree is attached to a governor; follows a rename of any ancestor. */
    String path() {
        return path(parent.pathOrNull());
    }

    /** {@link #path()} with the parent's path as just read (a batch of starts reads it once, not per child). */
    String path(String parentPath) {
        String l = label;
        int slash = l.lastIndexOf('/');
        if (parentPath == null) {
            return parent.name() + "/" + (slash < 0 ? l : l.substring(slash + 1));
        }
        if (parentPath.isEmpty() ? slash < 0 : slash == parentPath.length() && l.startsWith(parentPath)) {
            return l; // the label is this path already (or the name, directly under the root)
        }
        String n = slash < 0 ? l : l.substring(slash + 1);
        String full = parentPath.isEmpty() ? n : parentPath + "/" + n;
        LABEL.compareAndSet(this, l, full); // lost to a rename: that name wins, and the next call builds its path
        return full;
    }

    RestartPolicy effectivePolicy() {
        RestartPolicy p = config.policy;
        return p != null ? p : parent.defaultPolicyForChildren();
    }
    /** This child's stop timeout; null means none of its own (a supervisor waits for its subtree). */
    Duration stopTimeout(Duration governorDefault) {
        Duration t = config.shutdownTimeout;
        if (t != null) {
            return t;
        }
        return isSupervisor() ? null : governorDefault;
    }

    List<String> dependencies() {
        return config.dependsOn;
    }

    boolean readyOnStart() {
        return config.readyOnStart && !isSupervisor();
    }

    boolean gatesReadiness() {
        ChildConfig cf = config;
        return !cf.excludedFromReadiness && !cf.readinessWaived;
    }

    /**
     * An incoming generation of a reloadable node does not gate its parent's readiness until it is
     * ready (the generation before still serves). Kept in the configuration, which such a child
     * has of its own: a field of its own cost every child of a pool 8 bytes.
     */
    void waiveReadiness(boolean waived) {
        if (waived || config != ChildConfig.DEFAULTS) {
            own().readinessWaived = waived;
        }
    }

    Duration drainTimeout() {
        return config.drainTimeout;
    }

    /** Takes the configuration of {@code other} (the previous generation of a reloadable node). */
    void copyConfigFrom(Child other) {
        ChildConfig o = other.config;
        if (!o.dependsOn.isEmpty()) {
            parent.dependsOnDeclared();
        }
        config = o == ChildConfig.DEFAULTS ? ChildConfig.DEFAULTS : o.copy();
    }

    boolean significant() {
        return config.significant;
    }

    /**
     * What a {@link ServiceInfo} says besides the path, as published by the loop: immutable, and
     * shared by every child of a tree that publishes the same values one after the other (the
     * children of a pool started by one message all run, ready, with no restart, since the same
     * instant), so that a pool of a million does not keep a million snapshots.
     */
    record Snapshot(
            ServiceState state,
            boolean ready,
            int restarts,
            Optional<Throwable> lastFailure,
            Optional<Instant> startedAt,
            boolean supervisor) {
        /** Whether this snapshot says what one made of these values would; the failure by identity. */
        boolean holds(
                ServiceState st, boolean rdy, int rst, Throwable failure, Optional<Instant> started, boolean sup) {
            return state == st
                    && ready == rdy
                    && restarts == rst
                    && supervisor == sup
                    && lastFailure.orElse(null) == failure
                    && (startedAt == started || startedAt.equals(started));
        }

        /** Equal values; the failure by identity (its equals() is user code, never called). */
        boolean sameAs(Snapshot o) {
            return o != null && o.holds(state, ready, restarts, lastFailure.orElse(null), startedAt, supervisor);
        }
    }

    /** What every child added before its subtree joins a tree publishes: a service, then a supervisor. */
    private static final Snapshot[] UNATTACHED_NEW = {
        new Snapshot(ServiceState.NEW, false, 0, Optional.empty(), Optional.empty(), false),
        new Snapshot(ServiceState.NEW, false, 0, Optional.empty(), Optional.empty(), true)
    };

    /**
     * The state as last published (NEW until then). No field of its own: the published snapshot
     * holds it, and in a pool of a million that field made every child 8 bytes larger.
     */
    ServiceState state() {
        Snapshot s = snapshot;
        return s == null ? ServiceState.NEW : s.state();
    }

    /** Publishes a new snapshot after the loop changed this child's state. */
    void publish(ServiceState newState) {
        Snapshot before = snapshot;
        publish(newState, before, before == null ? Optional.empty() : before.startedAt(), null);
    }

    /**
     * Publishes a new run's snapshot: {@code startedAt} is shared by the children started in one
     * batch. The start time lives only in the snapshot (no field of its own: 8 bytes per child in a
     * pool of a million), so a later publish carries the last start on.
     */
    void publishStarted(ServiceState newState, Optional<Instant> startedAt) {
        publish(newState, snapshot, startedAt, null);
    }

    /**
     * {@link #publishStarted(ServiceState, Optional)} for one of a batch: the state change is added
     * to {@code counted} (per state ordinal), which the caller hands to {@link Tree#countAdded} once
     * for the batch, instead of taking the tree's counts lock per child.
     */
    void publishStarted(ServiceState newState, Optional<Instant> startedAt, long[] counted) {
        publish(newState, snapshot, startedAt, counted);
    }

    private void publish(ServiceState newState, Snapshot before, Optional<Instant> startedAt, long[] counted) {
        ServiceState old = before == null ? null : before.state();
        Tree tree = parent.treeOrNull();
        if (tree != null && old != newState) {
            if (counted == null) {
                tree.countTransition(old, newState);
            } else {
                if (old != null) {
                    counted[old.ordinal()]--;
                }
                counted[newState.ordinal()]++;
            }
        }
        Throwable f = lastFailure();
        boolean ready = ready();
        int restarts = Math.max(0, nextAttempt - 1);
        boolean supervisor = isSupervisor();
        if (tree != null) {
            Snapshot shared = tree.lastSnapshot; // racy on purpose: immutable, a miss only costs the copy
            if (shared != null && shared.holds(newState, ready, restarts, f, startedAt, supervisor)) {
                snapshot = shared; // compared before one is made: a pool stopped together makes none per child
                return;
            }
        }
        Optional<Throwable> failure = f == null
                ? Optional.empty()
                : before != null && before.lastFailure().orElse(null) == f ? before.lastFailure() : Optional.of(f);
        Snapshot next = new Snapshot(newState, ready, restarts, failure, startedAt, supervisor);
        if (tree != null) {
            tree.lastSnapshot = next;
        } else if (next.sameAs(UNATTACHED_NEW[supervisor ? 1 : 0])) {
            next = UNATTACHED_NEW[supervisor ? 1 : 0]; // a pool built before it joins: one snapshot, not one each
        } else if (isUnattachedNew(before)) {
            parent.leftSharedNew(); // unattached: the caller holds the parent's lock (no loop runs)
        }
        snapshot = next;
    }

    void publish() {
        publish(state());
    }

    /**
     * {@link #publish(ServiceState)} for one of a pool stopped together: the state change is added
     * to {@code counted}, which the caller hands to {@link Tree#countAdded} once for the pool.
     */
    void publish(ServiceState newState, long[] counted) {
        Snapshot before = snapshot;
        publish(newState, before, before == null ? Optional.empty() : before.startedAt(), counted);
    }

    /**
     * A child just made publishes NEW: before its subtree joins a tree, the one snapshot every such
     * child shares, without making one to compare (what {@link #publish(ServiceState)} would share).
     */
    void publishNew() {
        if (snapshot == null && nextAttempt == 0 && !ready() && lastFailure() == null && parent.treeOrNull() == null) {
            snapshot = UNATTACHED_NEW[isSupervisor() ? 1 : 0];
        } else {
            publish(ServiceState.NEW);
        }
    }

    /** Whether this child holds the NEW snapshot shared by every child added before its subtree joined a tree. */
    boolean sharesUnattachedNew() {
        return isUnattachedNew(snapshot);
    }

    private static boolean isUnattachedNew(Snapshot s) {
        return s == UNATTACHED_NEW[0] || s == UNATTACHED_NEW[1];
    }

    /**
     * Published again as its subtree joins a tree: NEW as every unattached child is needs nothing
     * (the shared snapshot holds the same values in a tree); returns the state to count.
     */
    ServiceState republish() {
        if (!sharesUnattachedNew()) {
            publish(state());
        }
        return state();
    }

    /** The published snapshot with the path as it is now (a retired generation is renamed after it was published). */
    ServiceInfo info() {
        Snapshot s = snapshot;
        return s == null
                ? null
                : new ServiceInfo(
                        path(), s.state(), s.ready(), s.restarts(), s.lastFailure(), s.startedAt(), s.supervisor());
    }

    /** Forgets the published state from the tree's counts (on removal). */
    void uncount() {
        Tree tree = parent.treeOrNull();
        Snapshot s = snapshot;
        if (tree != null && s != null) {
            tree.countTransition(s.state(), null);
        }
    }

    // ---- ServiceConfig ----

    @Override
    public ServiceConfig restart(Duration after) {
        return restartPolicy(RestartPolicy.always(after));
    }

    @Override
    public ServiceConfig noRestart() {
        return restartPolicy(RestartPolicy.never());
    }

    @Override
    public ServiceConfig restartPolicy(RestartPolicy policy) {
        if (policy == null) {
            throw new IllegalArgumentException("restart policy of \"" + name() + "\" must not be null");
        }
        configure("restartPolicy");
        own().policy = policy;
        return this;
    }

    @Override
    public ServiceConfig shutdownTimeout(Duration timeout) {
        Checks.positive(timeout, "shutdown timeout of \"" + name() + "\"");
        configure("shutdownTimeout");
        own().shutdownTimeout = timeout;
        return this;
    }

    @Override
    public ServiceConfig drainTimeout(Duration timeout) {
        Checks.notNegative(timeout, "drain timeout of \"" + name() + "\"");
        configure("drainTimeout");
        own().drainTimeout = timeout;
        return this;
    }

    @Override
    public ServiceConfig dependsOn(String... names) {
        if (names == null) {
            throw new IllegalArgumentException("dependsOn of \"" + name() + "\" must not be null");
        }
        for (String n : names) {
            Checks.childName(n);
            if (hasName(n)) {
                throw new IllegalArgumentException("\"" + n + "\" must not depend on itself");
            }
        }
        configure("dependsOn");
        List<String> deps = List.copyOf(Arrays.stream(names).distinct().toList());
        if (!deps.isEmpty()) {
            parent.dependsOnDeclared(); // before they are visible: a start that sees them knows to order
        }
        own().dependsOn = deps;
        return this;
    }

    @Override
    public ServiceConfig readyOnStart(boolean onStart) {
        configure("readyOnStart");
        own().readyOnStart = onStart;
        return this;
    }

    @Override
    public ServiceConfig excludeFromReadiness() {
        configure("excludeFromReadiness");
        own().excludedFromReadiness = true;
        return this;
    }

    @Override
    public ServiceConfig significant(boolean significant) {
        configure("significant");
        own().significant = significant;
        return this;
    }

    @Override
    public void start() {
        parent.startChildNow(this);
    }

    /** This child's own configuration, made at its first setting (ChildConfig.DEFAULTS is never written). */
    private ChildConfig own() {
        ChildConfig c = config;
        if (c == ChildConfig.DEFAULTS) {
            synchronized (this) {
                c = config;
                if (c == ChildConfig.DEFAULTS) {
                    c = new ChildConfig();
                    config = c;
                }
            }
        }
        return c;
    }

    private void configure(String what) {
        if (frozen()) {
            throw new IllegalStateException(
                    what + " of \"" + path() + "\" after it started: configure a child before it starts");
        }
    }

    @Override
    public String toString() {
        ChildConfig cf = config;
        return "Child[" + path() + ", " + state() + (ready() ? ", ready" : "") + (cf.significant ? ", significant" : "")
                + (cf.excludedFromReadiness ? ", excluded from readiness" : "") + ", attempt " + (nextAttempt - 1)
                + ", " + effectivePolicy() + "]";
    }
}
