package dev.governor;

import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The stop times of a {@link ShutdownReport}: the entries given, copied in their order into two
 * arrays, and the map they make, built the first time it is read. That map is a {@link
 * LinkedHashMap} filled in order (a path given twice keeps its first place and its last time), the
 * defensive copy the report always made; a shutdown of a million services no longer builds it,
 * hashing a million paths scattered over the heap, before {@code shutdown()} can return. The report
 * holds it behind {@link Collections#unmodifiableMap}, which refuses every change. Safe for
 * concurrent use: the arrays are final, the map is built once under this object's lock. Serialized
 * as that map, so the report's stop times serialize as they always did.
 */
final class ReportStopTimes extends AbstractMap<String, Duration> implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String[] paths;
    private final Duration[] times;
    private transient volatile Map<String, Duration> map;

    private ReportStopTimes(String[] paths, Duration[] times) {
        this.paths = paths;
        this.times = times;
    }

    /** An unmodifiable copy of {@code given}, taken now in its iteration order; its map is built when first read. */
    static Map<String, Duration> copyOf(Map<String, Duration> given) {
        int capacity = Math.max(16, Math.min(given.size(), 1 << 20)); // a size() that lies costs no more
        String[] p = new String[capacity];
        Duration[] t = new Duration[capacity];
        int n = 0;
        for (Map.Entry<String, Duration> e : given.entrySet()) {
            if (n == p.length) {
                p = Arrays.copyOf(p, n * 2);
                t = Arrays.copyOf(t, n * 2);
            }
            p[n] = e.getKey();
            t[n] = e.getValue();
            n++;
        }
        boolean full = n == p.length; // the usual case: size() told the truth, nothing to trim
        return Collections.unmodifiableMap(
                new ReportStopTimes(full ? p : Arrays.copyOf(p, n), full ? t : Arrays.copyOf(t, n)));
    }

    private Map<String, Duration> map() {
        Map<String, Duration> m = map;
        if (m == null) {
            synchronized (this) {
                m = map;
                if (m == null) {
                    LinkedHashMap<String, Duration> built = LinkedHashMap.newLinkedHashMap(paths.length);
                    for (int i = 0; i < paths.length; i++) {
                        built.put(paths[i], times[i]);
                    }
                    map = m = built;
                }
            }
        }
        return m;
    }

    /** What is written in this object's place: the map, built now if it was not yet. */
    @Serial
    private Object writeReplace() {
        return map();
    }

    @Override
    public Set<Entry<String, Duration>> entrySet() {
        return map().entrySet();
    }

    @Override
    public int size() {
        return map().size();
    }

    @Override
    public boolean isEmpty() {
        return paths.length == 0;
    }

    @Override
    public boolean containsKey(Object key) {
        return map().containsKey(key);
    }

    @Override
    public Duration get(Object key) {
        return map().get(key);
    }
}
