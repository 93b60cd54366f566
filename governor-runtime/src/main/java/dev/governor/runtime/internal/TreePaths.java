package dev.governor.runtime.internal;

import java.util.Map;

/** Finding a node of a governor's tree by its path ({@code "workers/w1"}). */
final class TreePaths {
    private TreePaths() {}

    /** The node at {@code path}, or null. */
    static Child find(SupervisorImpl root, String path) {
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
    static Map.Entry<SupervisorImpl, String> owner(SupervisorImpl root, String path, String op) {
        if (path == null) {
            throw new IllegalArgumentException(op + ": name must not be null");
        }
        int slash = path.lastIndexOf('/');
        if (slash < 0) {
            return Map.entry(root, path);
        }
        Child parent = find(root, path.substring(0, slash));
        if (parent == null || !(parent.service instanceof SupervisorImpl s)) {
            throw new IllegalArgumentException(
                    op + "(\"" + path + "\"): no supervisor at \"" + path.substring(0, slash) + "\"");
        }
        return Map.entry(s, path.substring(slash + 1));
    }

    /** Whether the calling thread is a run of this tree or a listener being called: it must not wait for the tree. */
    static boolean calledFromInside(SupervisorImpl root) {
        if (EventBus.delivering()) {
            return true;
        }
        Child c = find(root, Thread.currentThread().getName()); // a run's thread is named after its path
        Run r = c == null ? null : c.run;
        return Handoff.runsOnCurrentThread(r);
    }
}
