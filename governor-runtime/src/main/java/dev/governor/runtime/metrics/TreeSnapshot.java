package dev.governor.runtime.metrics;

import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import java.time.Instant;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One read of the whole tree, shared by every meter of a scrape and by the status page: the
 * nodes that get their own series (by path), the count of every node per state, and per pool
 * (a supervisor marked for aggregation) the count of its descendants per state. Built in one
 * pass over {@code Governor.services()}; pool members are counted, never kept.
 *
 * @param nodes      nodes outside pools, by path, in tree order (pools' supervisors included)
 * @param states     count of every node of the tree per {@link ServiceState#ordinal()}
 * @param pools      per pool supervisor path, count of its descendants per state ordinal
 * @param at         when the tree was read, on the governor's clock
 * @param takenNanos when the tree was read, on {@link System#nanoTime()} (cache age, ordering)
 */
record TreeSnapshot(
        Map<String, ServiceInfo> nodes, long[] states, Map<String, long[]> pools, Instant at, long takenNanos) {
    static final ServiceState[] STATES = ServiceState.values();

    static TreeSnapshot of(List<ServiceInfo> services, Set<String> poolPaths, Instant at) {
        long taken = System.nanoTime();
        Map<String, ServiceInfo> nodes = new LinkedHashMap<>();
        long[] states = new long[STATES.length];
        Map<String, long[]> pools = new HashMap<>();
        for (String pool : poolPaths) {
            pools.put(pool, new long[STATES.length]);
        }
        String lastPrefix = null;
        long[] lastPool = null;
        for (ServiceInfo info : services) {
            String name = info.name();
            states[info.state().ordinal()]++;
            if (poolPaths.isEmpty()) {
                nodes.put(name, info);
                continue;
            }
            // services() is pre-order: the members of one pool come in a row, so the last pool's
            // prefix answers almost every lookup without walking the path
            if (lastPrefix != null && name.startsWith(lastPrefix)) {
                lastPool[info.state().ordinal()]++;
                continue;
            }
            String pool = poolOf(name, poolPaths);
            if (pool == null) {
                nodes.put(name, info);
            } else {
                lastPrefix = pool + "/";
                lastPool = pools.get(pool);
                lastPool[info.state().ordinal()]++;
            }
        }
        return new TreeSnapshot(
                Collections.unmodifiableMap(nodes), states, Collections.unmodifiableMap(pools), at, taken);
    }

    /** The outermost pool that {@code path} is a descendant of (not the pool's own node), or null. */
    static String poolOf(String path, Set<String> poolPaths) {
        if (poolPaths.isEmpty()) {
            return null;
        }
        for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
            String ancestor = path.substring(0, slash);
            if (poolPaths.contains(ancestor)) {
                return ancestor;
            }
        }
        return null;
    }

    long count(ServiceState state) {
        return states[state.ordinal()];
    }

    long poolCount(String pool, ServiceState state) {
        long[] counts = pools.get(pool);
        return counts == null ? 0 : counts[state.ordinal()];
    }

    long poolSize(String pool) {
        long[] counts = pools.get(pool);
        long n = 0;
        if (counts != null) {
            for (long c : counts) {
                n += c;
            }
        }
        return n;
    }

    long total() {
        long n = 0;
        for (long c : states) {
            n += c;
        }
        return n;
    }

    @Override
    public String toString() {
        return "TreeSnapshot[nodes=" + nodes.size() + ", total=" + total() + ", pools=" + pools.keySet() + ", at=" + at
                + "]";
    }
}
