package dev.governor.runtime.internal;

import dev.governor.GenerationBuilder;
import dev.governor.GovernorEvent;
import dev.governor.ServiceConfig;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import dev.governor.runtime.ReloadableStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * A reloadable node: a child of {@link #parent} named {@link #name} whose service is the supervisor
 * of its current generation. A reload builds the next generation, retires the current one under the
 * name {@code name~n}, adds the new one as {@code name} right after it (so start and stop order are
 * kept), and waits until it is ready; then it stops and removes the retired one, or, refused, stops
 * the new one and gives the name back. Reloads of one governor are serialized by {@link Reloads}.
 */
final class ReloadableNode {
    /** How often the wait for a new generation looks at it. */
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    final SupervisorImpl parent;
    final String name;
    private final GenerationBuilder builder;

    // written by the reloading thread (one at a time), read by status views
    private volatile Child current;
    private volatile int generation;
    private volatile String lastOutcome = "none";
    private volatile Instant lastAt;
    private volatile String lastError;
    private volatile long reloads;
    private volatile long refusals;
    private final List<Integer> draining = new java.util.concurrent.CopyOnWriteArrayList<>();

    private ReloadableNode(SupervisorImpl parent, String name, GenerationBuilder builder) {
        this.parent = parent;
        this.name = name;
        this.builder = builder;
    }

    /** {@code Supervisor.addReloadable}: builds generation 1 now and adds it as {@code name}. */
    static ServiceConfig add(SupervisorImpl parent, String name, GenerationBuilder builder) {
        Checks.childName(name);
        if (name.indexOf('~') >= 0) {
            throw new IllegalArgumentException(
                    "reloadable name \"" + name + "\" must not contain '~' (it marks retired generations)");
        }
        if (builder == null) {
            throw new IllegalArgumentException("generation builder of \"" + name + "\" must not be null");
        }
        ReloadableNode node = new ReloadableNode(parent, name, builder);
        SupervisorImpl first;
        try {
            first = node.build(1);
        } catch (Error e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(
                    "generation 1 of \"" + name + "\" was refused by its builder: " + Untrusted.describe(e), e);
        }
        Child c = (Child) parent.add(name, first);
        node.current = c;
        node.generation = 1;
        return c;
    }

    private SupervisorImpl build(int number) throws Exception {
        SupervisorImpl gen = new SupervisorImpl(Strategy.ONE_FOR_ONE, null);
        gen.generationOf = this;
        builder.build(gen, number);
        return gen;
    }

    String path() {
        String p = parent.pathOrNull();
        return p == null || p.isEmpty() ? name : p + "/" + name;
    }

    /**
     * Replaces the current generation by a new one; false (and the current one untouched) if it is
     * refused. Called by {@link Reloads} only, one reload at a time.
     */
    boolean reload(Duration timeout) {
        Tree tree = parent.treeOrNull();
        int next = generation + 1;
        if (tree == null || !parent.loopRunning()) {
            return refused(tree, next, new IllegalStateException("\"" + path() + "\" is not running"));
        }
        if (tree.shuttingDown()) {
            return refused(tree, next, new IllegalStateException("shutdown has begun"));
        }
        SupervisorImpl gen;
        try {
            gen = build(next);
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            return refused(tree, next, e);
        }
        boolean sync = parent.isSyncReload();
        Tree.LOG.info(
                "reload of {}: starting generation {}{}",
                path(),
                next,
                sync ? " after stopping generation " + generation : "");
        if (sync) {
            tree.syncReloading = true; // generation n stops before n+1 starts: no natural end in between
            try {
                return syncReload(tree, gen, next, timeout);
            } finally {
                tree.syncReloading = false;
            }
        }
        return besideReload(tree, gen, next, timeout, false);
    }

    private boolean syncReload(Tree tree, SupervisorImpl gen, int next, Duration timeout) {
        parent.stopChild(name);
        return besideReload(tree, gen, next, timeout, true);
    }

    private boolean besideReload(Tree tree, SupervisorImpl gen, int next, Duration timeout, boolean sync) {
        Child old = current;
        String retired = name + "~" + generation;
        parent.rename(old, retired);
        Child fresh;
        try {
            fresh = parent.addBeside(old, name, gen);
        } catch (RuntimeException e) {
            parent.rename(old, name);
            return refused(tree, next, e);
        }
        fresh.copyConfigFrom(old);
        fresh.waiveReadiness(true); // generation n still serves: readiness does not dip while n+1 starts
        Throwable why;
        try {
            fresh.start();
            why = awaitReady(tree, fresh, gen, next, timeout);
        } catch (RuntimeException e) {
            why = e;
        }
        if (why != null) {
            Tree.LOG.warn("reload of {}: stopping generation {}, which was refused", path(), next);
            parent.removeChild(name);
            parent.rename(old, name);
            if (sync && !tree.shuttingDown()) {
                Tree.LOG.info("reload of {}: starting generation {} again", path(), generation);
                parent.restartChild(name);
            }
            return refused(tree, next, why);
        }
        fresh.waiveReadiness(false);
        current = fresh;
        int previous = generation;
        generation = next;
        reloads++;
        lastOutcome = "reloaded";
        lastError = null;
        lastAt = tree.now();
        Tree.LOG.info(
                "reload of {}: generation {} is serving; stopping generation {} as {}",
                path(),
                next,
                previous,
                retired);
        tree.publish(new GovernorEvent.Reloaded(path(), lastAt, next));
        draining.add(previous);
        Thread.ofVirtual().name(path() + "~" + previous + "/retire").start(() -> {
            try {
                parent.removeChild(retired);
            } catch (RuntimeException e) {
                Tree.LOG.warn("reload of {}: removing generation {} failed", path(), previous, Untrusted.loggable(e));
            } finally {
                draining.remove(Integer.valueOf(previous));
            }
        });
        // return once generation n is being stopped (its services cancelled: a server stops accepting), so
        // that a connection made after reload() returned reaches generation n+1; bounded, never blocks a reload
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < until
                && old.info() != null
                && old.info().state() == ServiceState.RUNNING
                && !old.removed()) {
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(1));
        }
        return true;
    }

    /** Null once {@code fresh} is ready; else why it is refused (it failed, ended, timed out, or shutdown began). */
    private Throwable awaitReady(Tree tree, Child fresh, SupervisorImpl gen, int number, Duration timeout) {
        Deadline d = Deadline.after(tree.scheduler, timeout);
        try {
            while (true) {
                ServiceInfo info = fresh.info();
                if (info != null && info.ready() && info.state() == ServiceState.RUNNING) {
                    return null;
                }
                Throwable failure = firstFailure(gen);
                if (failure != null) {
                    return failure;
                }
                if (info != null && info.state().isTerminal()) {
                    return new IllegalStateException("generation " + number + " of \"" + path() + "\" ended ("
                            + info.state() + ") before it was ready");
                }
                if (tree.shuttingDown()) {
                    return new IllegalStateException("shutdown began while generation " + number + " was starting");
                }
                if (d.passed()) {
                    return new TimeoutException("generation " + number + " of \"" + path() + "\" was not ready within "
                            + timeout.toMillis() + " ms (the reload timeout); not ready: " + notReady(gen));
                }
                LockSupport.parkNanos(this, POLL_NANOS);
            }
        } finally {
            d.cancel();
        }
    }

    /** The first failure of a run in the generation's subtree, if any. */
    private static Throwable firstFailure(SupervisorImpl gen) {
        List<ServiceInfo> infos = new ArrayList<>();
        gen.collect(infos);
        for (ServiceInfo i : infos) {
            if (i.lastFailure().isPresent()) {
                return i.lastFailure().get();
            }
            if (i.state() == ServiceState.FAILED) {
                return new IllegalStateException(i.name() + " FAILED");
            }
        }
        return null;
    }

    private static List<String> notReady(SupervisorImpl gen) {
        List<ServiceInfo> infos = new ArrayList<>();
        gen.collect(infos);
        return infos.stream().filter(i -> !i.ready()).map(ServiceInfo::name).toList();
    }

    private boolean refused(Tree tree, int number, Throwable cause) {
        refusals++;
        lastOutcome = "refused";
        lastError = "generation " + number + " of \"" + path() + "\" refused: " + Untrusted.describe(cause);
        lastAt = tree == null ? Instant.now() : tree.now();
        Tree.LOG.error(
                "reload of {} refused; generation {} keeps serving: {}",
                path(),
                generation,
                Untrusted.describe(cause),
                cause instanceof TimeoutException || cause instanceof IllegalStateException
                        ? null
                        : Untrusted.loggable(cause));
        if (tree != null) {
            tree.publish(new GovernorEvent.ReloadRefused(path(), lastAt, number, cause));
        }
        return false;
    }

    String lastError() {
        return lastError;
    }

    ReloadableStatus status() {
        return new ReloadableStatus(
                path(),
                generation,
                lastOutcome,
                Optional.ofNullable(lastAt),
                Optional.ofNullable(lastError),
                reloads,
                refusals,
                List.copyOf(draining));
    }

    @Override
    public String toString() {
        return "ReloadableNode[" + path() + ", generation " + generation + ", last " + lastOutcome + "]";
    }
}
