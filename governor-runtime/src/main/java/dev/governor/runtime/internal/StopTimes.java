package dev.governor.runtime.internal;

import java.time.Duration;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * The stop times of one shutdown, in stop order: two arrays grown together, appended to by the
 * supervisor loops (a pool's stop in one call), read once by the shutdown report. No entry object
 * per stopped service: the children of a pool stopped together share one {@link Duration}.
 */
final class StopTimes {
    private String[] paths = new String[16]; // guarded by this
    private Duration[] times = new Duration[16]; // guarded by this
    private int count; // guarded by this

    synchronized void add(String path, Duration time) {
        room(1);
        paths[count] = path;
        times[count] = time;
        count++;
    }

    synchronized void addAll(String[] morePaths, Duration[] moreTimes, int n) {
        room(n);
        System.arraycopy(morePaths, 0, paths, count, n);
        System.arraycopy(moreTimes, 0, times, count, n);
        count += n;
    }

    private void room(int n) {
        if (count + n > paths.length) {
            int size = Math.max(count + n, paths.length * 2);
            paths = Arrays.copyOf(paths, size);
            times = Arrays.copyOf(times, size);
        }
    }

    /**
     * What was recorded so far, in stop order, as a map for {@code ShutdownReport} to copy (its
     * constructor copies the entries in order; the map it keeps is built when first read). A path
     * stopped twice in one shutdown appears twice here; the report's map keeps its first place and
     * its last time, as {@code put} in stop order does.
     */
    Map<String, Duration> inOrder() {
        String[] p;
        Duration[] t;
        int n;
        synchronized (this) {
            n = count;
            p = Arrays.copyOf(paths, n);
            t = Arrays.copyOf(times, n);
        }
        return new InOrder(p, t, n);
    }

    private static final class InOrder extends AbstractMap<String, Duration> {
        private final String[] paths;
        private final Duration[] times;
        private final int n;

        InOrder(String[] paths, Duration[] times, int n) {
            this.paths = paths;
            this.times = times;
            this.n = n;
        }

        @Override
        public int size() {
            return n;
        }

        @Override
        public Set<Entry<String, Duration>> entrySet() {
            return new AbstractSet<>() {
                @Override
                public int size() {
                    return n;
                }

                @Override
                public Iterator<Entry<String, Duration>> iterator() {
                    return new Iterator<>() {
                        private int i;

                        @Override
                        public boolean hasNext() {
                            return i < n;
                        }

                        @Override
                        public Entry<String, Duration> next() {
                            if (i >= n) {
                                throw new NoSuchElementException();
                            }
                            Entry<String, Duration> e = new SimpleImmutableEntry<>(paths[i], times[i]);
                            i++;
                            return e;
                        }
                    };
                }
            };
        }
    }

    @Override
    public synchronized String toString() {
        return "StopTimes[" + count + "]";
    }
}
