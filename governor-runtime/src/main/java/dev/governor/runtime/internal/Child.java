package dev.governor.runtime.internal;

import dev.governor.RestartPolicy;
import dev.governor.Service;
import dev.governor.ServiceConfig;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * One child of a supervisor: its configuration (the {@link ServiceConfig} returned by {@code add}),
 * the loop-owned state of its current incarnation, and the immutable snapshot others read.
 */
final class Child implements ServiceConfig {
    final SupervisorImpl parent;
    volatile String name;            // changes only when a reload retires this generation (ReloadableNode)
    final Service service;

    // configuration: written under parent.lock before the first start, read by the loop after
    private volatile RestartPolicy policy;
    private volatile Duration shutdownTimeout;
    private volatile List<String> dependsOn = List.of();
    private volatile boolean readyOnStart = true;
    private volatile Duration drainTimeout = Duration.ZERO;
    volatile boolean readinessWaived;  // an incoming generation: does not gate its parent's readiness until ready
    private volatile boolean frozen;

    // owned by the parent's loop (or by a caller holding parent.lock while the loop does not run)
    Run run;
    int nextAttempt;
    int consecutiveRestarts;
    RestartWindow restartTimes;
    Throwable lastFailure;
    Optional<Instant> startedAt = Optional.empty();  // shared by the children started in one batch
    ServiceState state = ServiceState.NEW;
    boolean ready;
    boolean pendingStart;
    Object restartToken;
    dev.governor.Scheduler.Cancellable restartTimer;
    boolean countedNotReady;
    boolean countedActive;
    boolean removed;

    private volatile CachedPath path;
    private volatile ServiceInfo info;

    Child(SupervisorImpl parent, String name, Service service) {
        this.parent = parent;
        this.name = name;
        this.service = service;
    }

    boolean isSupervisor() {
        return service instanceof SupervisorImpl;
    }

    /** A path and what it was made of: still valid while the parent's path and the name are the same objects. */
    private record CachedPath(String parentPath, String name, String path) {}

    /** Path from the root, once the subtree is attached to a governor; follows a rename of any ancestor. */
    String path() {
        String parentPath = parent.pathOrNull();
        String n = name;
        CachedPath p = path;
        if (p != null && p.parentPath() == parentPath && p.name() == n) {
            return p.path();
        }
        if (parentPath == null) {
            return parent.name() + "/" + n;
        }
        String full = parentPath.isEmpty() ? n : parentPath + "/" + n;
        path = new CachedPath(parentPath, n, full);
        return full;
    }

    RestartPolicy effectivePolicy() {
        RestartPolicy p = policy;
        return p != null ? p : parent.defaultPolicyForChildren();
    }
    /** This child's stop timeout; null means none of its own (a supervisor waits for its subtree). */
    Duration stopTimeout(Duration governorDefault) {
        Duration t = shutdownTimeout;
        if (t != null) {
            return t;
        }
        return isSupervisor() ? null : governorDefault;
    }

    List<String> dependencies() {
        return dependsOn;
    }

    boolean readyOnStart() {
        return readyOnStart && !isSupervisor();
    }

    boolean gatesReadiness() {
        return !readinessWaived;
    }

    Duration drainTimeout() {
        return drainTimeout;
    }

    /** Takes the configuration of {@code other} (the previous generation of a reloadable node). */
    void copyConfigFrom(Child other) {
        policy = other.policy;
        shutdownTimeout = other.shutdownTimeout;
        dependsOn = other.dependsOn;
        readyOnStart = other.readyOnStart;
        drainTimeout = other.drainTimeout;
    }

    void freeze() {
        frozen = true;
    }

    /** Publishes a new snapshot after the loop changed this child's state. */
    void publish(ServiceState newState) {
        ServiceState old = info == null ? null : info.state();
        state = newState;
        Tree tree = parent.treeOrNull();
        if (tree != null && old != newState) {
            tree.countTransition(old, newState);
        }
        info = new ServiceInfo(path(), newState, ready, Math.max(0, nextAttempt - 1),
                lastFailure == null ? Optional.empty() : Optional.of(lastFailure), startedAt, isSupervisor());
    }

    void publish() {
        publish(state);
    }

    ServiceInfo info() {
        ServiceInfo i = info;
        if (i != null) {
            String p = path();
            if (i.name() != p && !i.name().equals(p)) { // renamed since it was published (a retired generation)
                i = new ServiceInfo(p, i.state(), i.ready(), i.restarts(), i.lastFailure(), i.startedAt(), i.supervisor());
            }
        }
        return i;
    }

    /** Forgets the published state from the tree's counts (on removal). */
    void uncount() {
        Tree tree = parent.treeOrNull();
        ServiceInfo i = info;
        if (tree != null && i != null) {
            tree.countTransition(i.state(), null);
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
            throw new IllegalArgumentException("restart policy of \"" + name + "\" must not be null");
        }
        configure("restartPolicy");
        this.policy = policy;
        return this;
    }

    @Override
    public ServiceConfig shutdownTimeout(Duration timeout) {
        Checks.positive(timeout, "shutdown timeout of \"" + name + "\"");
        configure("shutdownTimeout");
        this.shutdownTimeout = timeout;
        return this;
    }

    @Override
    public ServiceConfig drainTimeout(Duration timeout) {
        Checks.notNegative(timeout, "drain timeout of \"" + name + "\"");
        configure("drainTimeout");
        this.drainTimeout = timeout;
        return this;
    }

    @Override
    public ServiceConfig dependsOn(String... names) {
        if (names == null) {
            throw new IllegalArgumentException("dependsOn of \"" + name + "\" must not be null");
        }
        for (String n : names) {
            Checks.childName(n);
            if (n.equals(name)) {
                throw new IllegalArgumentException("\"" + name + "\" must not depend on itself");
            }
        }
        configure("dependsOn");
        this.dependsOn = List.copyOf(Arrays.stream(names).distinct().toList());
        return this;
    }

    @Override
    public ServiceConfig readyOnStart(boolean onStart) {
        configure("readyOnStart");
        this.readyOnStart = onStart;
        return this;
    }

    @Override
    public void start() {
        parent.startChildNow(this);
    }

    private void configure(String what) {
        if (frozen) {
            throw new IllegalStateException(what + " of \"" + path() + "\" after it started: configure a child before it starts");
        }
    }

    @Override
    public String toString() {
        return "Child[" + path() + ", " + state + (ready ? ", ready" : "") + ", attempt " + (nextAttempt - 1)
                + ", " + effectivePolicy() + "]";
    }
}
