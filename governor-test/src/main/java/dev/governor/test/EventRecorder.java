package dev.governor.test;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.GovernorListener;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Records every {@link GovernorEvent} of a governor, with polling waits and exact
 * sequence assertions. Register it with {@code gov.onEvent(recorder)} (the JUnit extension does).
 */
public final class EventRecorder implements GovernorListener {
    /** Bound of every await: generous, so a loaded machine never fails a correct test. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

    private final List<GovernorEvent> events = new ArrayList<>();
    private static final Duration POLL = Duration.ofMillis(2);
    private final Duration timeout;

    public EventRecorder() {
        this(DEFAULT_TIMEOUT);
    }

    public EventRecorder(Duration timeout) {
        this.timeout = timeout;
    }

    @Override
    public synchronized void onEvent(GovernorEvent event) {
        events.add(event);
    }

    /** Every event so far, in delivery order. */
    public synchronized List<GovernorEvent> events() {
        return List.copyOf(events);
    }

    /** The events of one path, in order. */
    public synchronized List<GovernorEvent> events(String path) {
        return events.stream().filter(e -> e.service().equals(path)).toList();
    }

    /** The events of one type, in order. */
    public synchronized <T extends GovernorEvent> List<T> events(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** The events of one type for one path, in order. */
    public synchronized <T extends GovernorEvent> List<T> events(Class<T> type, String path) {
        return events.stream()
                .filter(type::isInstance)
                .map(type::cast)
                .filter(e -> e.service().equals(path))
                .toList();
    }

    /** The simple type names of a path's events, e.g. {@code [Started, Ready, Failed, Restarting, Started]}. */
    public List<String> sequence(String path) {
        return events(path).stream().map(e -> e.getClass().getSimpleName()).toList();
    }

    /** Waits for the {@code n}-th (1-based) event of {@code type} for {@code path} and returns it. */
    public <T extends GovernorEvent> T awaitEvent(Class<T> type, String path, int n) {
        Waits.orFail(
                timeout,
                POLL,
                () -> "event #" + n + " " + type.getSimpleName() + " of \"" + path + "\"; have " + sequence(path),
                () -> events(type, path).size() >= n);
        return events(type, path).get(n - 1);
    }

    /** Waits for the first event of {@code type} for {@code path}. */
    public <T extends GovernorEvent> T awaitEvent(Class<T> type, String path) {
        return awaitEvent(type, path, 1);
    }

    /** Waits for an event that matches. */
    public GovernorEvent awaitEvent(Predicate<GovernorEvent> match) {
        Waits.orFail(
                timeout,
                POLL,
                () -> "an event matching " + match,
                () -> find(match).isPresent());
        return find(match).orElseThrow();
    }

    private synchronized Optional<GovernorEvent> find(Predicate<GovernorEvent> match) {
        return events.stream().filter(match).findFirst();
    }

    /** Waits until {@code path} has been restarted {@code n} times (n Restarting events). */
    public void awaitRestarts(String path, int n) {
        awaitEvent(GovernorEvent.Restarting.class, path, n);
    }

    /** Waits until the node at {@code path} is in {@code state}. */
    public static ServiceInfo awaitState(Governor gov, String path, ServiceState state) {
        Waits.orFail(
                DEFAULT_TIMEOUT,
                POLL,
                () -> "\"" + path + "\" in state " + state + ", is "
                        + gov.service(path).map(ServiceInfo::state),
                () -> gov.service(path).map(i -> i.state() == state).orElse(false));
        return gov.service(path).orElseThrow();
    }

    /** Asserts the exact sequence of event types of {@code path}. */
    @SafeVarargs
    public final void assertSequence(String path, Class<? extends GovernorEvent>... types) {
        List<String> expected = new java.util.ArrayList<>(types.length);
        for (Class<? extends GovernorEvent> type : types) { // read element by element: the array never escapes
            expected.add(type.getSimpleName());
        }
        List<String> actual = sequence(path);
        if (!actual.equals(expected)) {
            throw new AssertionError("events of \"" + path + "\":\n  expected " + expected + "\n  but were " + actual);
        }
    }

    @Override
    public synchronized String toString() {
        return "EventRecorder[" + events.size() + " events]";
    }
}
