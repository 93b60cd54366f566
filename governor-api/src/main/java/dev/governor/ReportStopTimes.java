package dev.governor;

import java.io.Serial;
import java.io.Serializable;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The stop times of a {@link ShutdownReport}: the entries given, copied in their order into two
 * arrays, and the map they make, built the first time it is read. That map is an unmodifiable
 * {@link LinkedHashMap} filled in order (a path given twice keeps its first place and its last
 * time), the defensive copy the report always made; a shutdown of a million services no longer
 * builds it, hashing a million paths scattered over the heap, before {@code shutdown()} can return.
 * Safe for concurrent use: the arrays are final, the map is built once under this object's lock.
 * Serialized as that map, as the report's stop times always were.
 */
final class ReportStopTimes implements Map<String, Duration>, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String[] paths;
    private final Duration[] times;
    private transient volatile Map<String, Duration> map;

    private ReportStopTimes(String[] paths, Duration[] times) {
        this.paths = paths;
        this.times = times;
    }

    /** A copy of {@code given}, taken now in its iteration order. */
    static ReportStopTimes copyOf(Map<String, Duration> given) {
        if (given instanceof ReportStopTimes same) { // another report's: its arrays never change
            return same;
        }
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
        return new ReportStopTimes(n == p.length ? p : Arrays.copyOf(p, n), n == t.length ? t : Arrays.copyOf(t, n));
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
                    map = m = Collections.unmodifiableMap(built);
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
    public boolean containsValue(Object value) {
        return map().containsValue(value);
    }

    @Override
    public Duration get(Object key) {
        return map().get(key);
    }

    @Override
    public Duration getOrDefault(Object key, Duration defaultValue) {
        return map().getOrDefault(key, defaultValue);
    }

    @Override
    public Set<String> keySet() {
        return map().keySet();
    }

    @Override
    public Collection<Duration> values() {
        return map().values();
    }

    @Override
    public Set<Entry<String, Duration>> entrySet() {
        return map().entrySet();
    }

    @Override
    public void forEach(BiConsumer<? super String, ? super Duration> action) {
        map().forEach(action);
    }

    @Override
    public boolean equals(Object o) {
        return o == this || map().equals(o);
    }

    @Override
    public int hashCode() {
        return map().hashCode();
    }

    @Override
    public String toString() {
        return map().toString();
    }

    // ---- every change is refused, as by the unmodifiable map: no call reaches the map's contents

    @Override
    public Duration put(String key, Duration value) {
        throw unmodifiable();
    }

    @Override
    public Duration remove(Object key) {
        throw unmodifiable();
    }

    @Override
    public void putAll(Map<? extends String, ? extends Duration> m) {
        throw unmodifiable();
    }

    @Override
    public void clear() {
        throw unmodifiable();
    }

    @Override
    public void replaceAll(BiFunction<? super String, ? super Duration, ? extends Duration> function) {
        throw unmodifiable();
    }

    @Override
    public Duration putIfAbsent(String key, Duration value) {
        throw unmodifiable();
    }

    @Override
    public boolean remove(Object key, Object value) {
        throw unmodifiable();
    }

    @Override
    public boolean replace(String key, Duration oldValue, Duration newValue) {
        throw unmodifiable();
    }

    @Override
    public Duration replace(String key, Duration value) {
        throw unmodifiable();
    }

    @Override
    public Duration computeIfAbsent(String key, Function<? super String, ? extends Duration> mappingFunction) {
        throw unmodifiable();
    }

    @Override
    public Duration computeIfPresent(
            String key, BiFunction<? super String, ? super Duration, ? extends Duration> remappingFunction) {
        throw unmodifiable();
    }

    @Override
    public Duration compute(
            String key, BiFunction<? super String, ? super Duration, ? extends Duration> remappingFunction) {
        throw unmodifiable();
    }

    @Override
    public Duration merge(
            String key,
            Duration value,
            BiFunction<? super Duration, ? super Duration, ? extends Duration> remappingFunction) {
        throw unmodifiable();
    }

    private static UnsupportedOperationException unmodifiable() {
        return new UnsupportedOperationException("a shutdown report's stop times cannot be changed");
    }
}
