package dev.governor.runtime.internal;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.ReloadHandler;
import dev.governor.runtime.LifecycleListener;
import dev.governor.runtime.ReloadableStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The reloads of one governor, one at a time: the reload handler, then every reloadable node of the
 * tree in depth-first order. A second caller waits for the first to finish (never interleaved).
 */
final class Reloads {
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final Tree tree;
    private final SupervisorImpl root;
    private final ReentrantLock lock = new ReentrantLock(true);
    private volatile Duration timeout = DEFAULT_TIMEOUT;
    private volatile String lastError;

    Reloads(Tree tree, SupervisorImpl root) {
        this.tree = tree;
        this.root = root;
    }

    void timeout(Duration timeout) {
        this.timeout = Checks.positive(timeout, "reloadTimeout");
    }

    /** Whether there is anything to reload besides a handler. */
    boolean any() {
        return !nodes().isEmpty();
    }

    /** The reloadable nodes of the tree, depth first (retired generations are not walked). */
    List<ReloadableNode> nodes() {
        Set<ReloadableNode> out = new LinkedHashSet<>();
        collect(root, out);
        return new ArrayList<>(out);
    }

    private static void collect(SupervisorImpl sup, Set<ReloadableNode> out) {
        for (Child c : sup.childrenView()) {
            if (c.service instanceof SupervisorImpl s
                    && !c.removed()
                    && c.name().indexOf('~') < 0) {
                if (s.generationOf != null) {
                    out.add(s.generationOf);
                }
                collect(s, out);
            }
        }
    }

    List<ReloadableStatus> status() {
        return nodes().stream().map(ReloadableNode::status).toList();
    }

    /** {@code Governor.reload()}. */
    boolean reload(Governor governor, ReloadHandler handler) {
        List<ReloadableNode> nodes = nodes();
        if (handler == null && nodes.isEmpty()) {
            throw new IllegalStateException("reload() with no reload handler: set one with onReload(...)");
        }
        lock.lock();
        try {
            if (tree.shuttingDown()) {
                String why = "reload refused: shutdown has begun";
                Tree.LOG.warn(why);
                for (ReloadableNode n : nodes) {
                    tree.publish(new GovernorEvent.ReloadRefused(
                            n.path(), tree.now(), n.status().generation() + 1, new IllegalStateException(why)));
                }
                lastError = why;
                return false;
            }
            Tree.LOG.info("reloading");
            tree.bus.lifecycle(LifecycleListener::reloadBegan);
            String error = null;
            if (handler != null) {
                try {
                    handler.reload(governor);
                } catch (VirtualMachineError e) {
                    throw e;
                } catch (Throwable e) {
                    error = "reload handler failed: " + Untrusted.describe(e);
                    Tree.LOG.error("reload handler failed; the running services are kept", Untrusted.loggable(e));
                }
            }
            if (error == null) {
                for (ReloadableNode n : nodes) {
                    if (!n.reload(timeout) && error == null) {
                        error = n.lastError();
                    }
                }
            }
            if (error == null) {
                Tree.LOG.info("reload done");
            }
            String result = error;
            lastError = error;
            tree.bus.lifecycle(l -> l.reloadEnded(result == null, result));
            return error == null;
        } finally {
            lock.unlock();
        }
    }

    /** Why the last reload was refused, or null if it succeeded (or none ran). */
    String lastError() {
        return lastError;
    }
}
