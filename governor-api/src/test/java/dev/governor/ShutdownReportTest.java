package dev.governor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The report's stop times: copied at once, in order, unmodifiable; the map itself is built when read. */
class ShutdownReportTest {
    private static final Duration ONE = Duration.ofMillis(1);
    private static final Duration TWO = Duration.ofMillis(2);
    private static final Duration THREE = Duration.ofMillis(3);

    private static ShutdownReport report(Map<String, Duration> stopTimes) {
        return new ShutdownReport(0, Duration.ZERO, stopTimes, List.of(), Optional.empty());
    }

    @Test
    void stopTimesKeepTheGivenOrderAndAPathGivenTwiceKeepsItsFirstPlaceAndItsLastTime() {
        // the runtime hands over entries in stop order, a path stopped twice appearing twice
        Map<String, Duration> twice = entries(List.of("b", "a", "b", "c"), List.of(ONE, TWO, THREE, ONE));
        Map<String, Duration> times = report(twice).stopTimes();

        LinkedHashMap<String, Duration> expected = new LinkedHashMap<>();
        expected.put("b", THREE);
        expected.put("a", TWO);
        expected.put("c", ONE);
        assertThat(new ArrayList<>(times.entrySet())).isEqualTo(new ArrayList<>(expected.entrySet()));
        assertThat(times).hasSize(3).containsEntry("b", THREE).doesNotContainKey("d");
        assertThat(times.get("d")).isNull();
        assertThat(times.getOrDefault("d", TWO)).isEqualTo(TWO);
        assertThat(times.containsValue(TWO)).isTrue();
        assertThat(times.isEmpty()).isFalse();
        assertThat(times).isEqualTo(expected);
        assertThat(expected).isEqualTo(times);
        assertThat(times.hashCode()).isEqualTo(expected.hashCode());
        assertThat(times.toString()).isEqualTo(expected.toString());
    }

    @Test
    void stopTimesAreCopiedWhenTheReportIsMadeNotWhenTheyAreRead() {
        LinkedHashMap<String, Duration> given = new LinkedHashMap<>();
        given.put("db", ONE);
        ShutdownReport report = report(given);
        given.put("web", TWO);
        given.put("db", THREE);

        assertThat(report.stopTimes()).containsExactly(Map.entry("db", ONE));
        assertThat(report(report.stopTimes()).stopTimes()).isEqualTo(report.stopTimes());
        assertThat(report(Map.of()).stopTimes()).isEmpty();
        assertThatThrownBy(() -> report(null))
                .isInstanceOf(NullPointerException.class)
                .hasMessage("stopTimes");
    }

    @Test
    void stopTimesAreSerializedAsTheUnmodifiableMapTheyAlwaysWere() throws Exception {
        Map<String, Duration> times = report(entries(List.of("b", "a", "b"), List.of(ONE, TWO, THREE)))
                .stopTimes();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(times);
        }
        Object read;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            read = in.readObject();
        }
        assertThat(read.getClass())
                .isEqualTo(Collections.unmodifiableMap(new LinkedHashMap<>()).getClass());
        @SuppressWarnings("unchecked")
        Map<String, Duration> copy = (Map<String, Duration>) read;
        assertThat(new ArrayList<>(copy.entrySet())).isEqualTo(new ArrayList<>(times.entrySet()));
        assertThatThrownBy(() -> copy.put("c", ONE)).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void aNullPathOrTimeIsKeptAsTheCopyAlwaysKeptIt() {
        LinkedHashMap<String, Duration> given = new LinkedHashMap<>();
        given.put(null, ONE);
        given.put("x", null);
        Map<String, Duration> times = report(given).stopTimes();
        assertThat(times).containsKey(null).containsKey("x").hasSize(2);
        assertThat(times.get(null)).isEqualTo(ONE);
        assertThat(times.get("x")).isNull();
    }

    @Test
    void aMapWhoseSizeLiesIsCopiedByItsEntries() {
        for (int claimed : new int[] {-1, 0, 1, Integer.MAX_VALUE}) {
            List<String> paths = new ArrayList<>();
            List<Duration> durations = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                paths.add("s" + i);
                durations.add(Duration.ofMillis(i));
            }
            Map<String, Duration> liar = entries(paths, durations, claimed);
            Map<String, Duration> times = report(liar).stopTimes();
            assertThat(times).as("size() claims %d", claimed).hasSize(40);
            assertThat(new ArrayList<>(times.keySet())).isEqualTo(paths);
            assertThat(new ArrayList<>(times.values())).isEqualTo(durations);
        }
    }

    @Test
    void everyChangeOfTheStopTimesIsRefusedAndChangesNothing() {
        Map<String, Duration> times =
                report(entries(List.of("a", "b"), List.of(ONE, TWO))).stopTimes();
        List<Consumer<Map<String, Duration>>> changes = List.of(
                m -> m.put("c", ONE),
                m -> m.remove("a"),
                m -> m.remove("missing"),
                m -> m.putAll(Map.of("c", ONE)),
                m -> m.clear(),
                m -> m.replaceAll((k, v) -> v),
                m -> m.putIfAbsent("a", ONE),
                m -> m.remove("a", ONE),
                m -> m.replace("a", ONE, TWO),
                m -> m.replace("a", TWO),
                m -> m.computeIfAbsent("a", k -> ONE),
                m -> m.computeIfPresent("a", (k, v) -> v),
                m -> m.compute("a", (k, v) -> v),
                m -> m.merge("a", ONE, (x, y) -> x),
                m -> m.keySet().remove("a"),
                m -> m.values().clear(),
                m -> m.entrySet().iterator().next().setValue(THREE),
                m -> {
                    Iterator<String> it = m.keySet().iterator();
                    it.next();
                    it.remove();
                });
        for (Consumer<Map<String, Duration>> change : changes) {
            assertThatThrownBy(() -> change.accept(times)).isInstanceOf(UnsupportedOperationException.class);
        }
        assertThat(times).containsExactly(Map.entry("a", ONE), Map.entry("b", TWO));
    }

    @Test
    void readersThatComeFirstTogetherAllSeeTheWholeMap() throws Exception {
        List<String> paths = new ArrayList<>();
        List<Duration> durations = new ArrayList<>();
        for (int i = 0; i < 50_000; i++) {
            paths.add("pool/w" + i);
            durations.add(Duration.ofNanos(i));
        }
        for (int round = 0; round < 20; round++) {
            Map<String, Duration> times = report(entries(paths, durations)).stopTimes();
            CountDownLatch go = new CountDownLatch(1);
            try (ExecutorService readers = Executors.newFixedThreadPool(4)) {
                List<Future<Duration>> reads = new ArrayList<>();
                for (int r = 0; r < 4; r++) {
                    int reader = r;
                    reads.add(readers.submit(() -> {
                        go.await();
                        return times.get("pool/w" + (49_999 - reader));
                    }));
                }
                go.countDown();
                for (int r = 0; r < 4; r++) {
                    assertThat(reads.get(r).get()).isEqualTo(Duration.ofNanos(49_999 - r));
                }
            }
            assertThat(times).hasSize(50_000);
        }
    }

    /** A map that yields {@code paths} with {@code durations}, in order, duplicates included. */
    private static Map<String, Duration> entries(List<String> paths, List<Duration> durations) {
        return entries(paths, durations, paths.size());
    }

    private static Map<String, Duration> entries(List<String> paths, List<Duration> durations, int claimedSize) {
        return new AbstractMap<>() {
            @Override
            public int size() {
                return claimedSize;
            }

            @Override
            public Set<Entry<String, Duration>> entrySet() {
                return new AbstractSet<>() {
                    @Override
                    public int size() {
                        return claimedSize;
                    }

                    @Override
                    public Iterator<Entry<String, Duration>> iterator() {
                        Iterator<String> p = paths.iterator();
                        Iterator<Duration> d = durations.iterator();
                        return new Iterator<>() {
                            @Override
                            public boolean hasNext() {
                                return p.hasNext();
                            }

                            @Override
                            public Entry<String, Duration> next() {
                                return new SimpleImmutableEntry<>(p.next(), d.next());
                            }
                        };
                    }
                };
            }
        };
    }
}
