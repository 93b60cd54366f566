package dev.governor.runtime.model;

import dev.governor.AutoShutdown;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small pure model of the documented supervision semantics of one nested supervisor "s" (added
 * to the root with {@code noRestart()}): strategies, restart policies, a child's own limit, the
 * supervisor's intensity, temporary/transient/permanent children, significant children and
 * {@code autoShutdown}, and the dynamic calls. It is written from the README and API.md, not from
 * the runtime's code; {@link SupervisionModelTest} compares the runtime's events with its own.
 *
 * <p>Events are kept per path as short strings ({@code "Started 1"}, {@code "Restarting PT2S"},
 * {@code "Escalated 2 s/c1"}): the order of one path's events is what a supervisor promises.
 */
final class SupervisionModel {
    enum Mode {
        NEVER,
        ALWAYS,
        ON_FAILURE
    }

    enum End {
        COMPLETE,
        FAIL,
        STOP_SERVICE
    }

    record ChildSpec(Mode mode, Duration delay, int limit, Duration limitWindow, boolean significant) {}

    record SupSpec(Strategy strategy, int intensity, Duration intensityWindow, AutoShutdown autoShutdown) {}

    static final class Child {
        final String name;
        final ChildSpec spec;
        ServiceState state = ServiceState.NEW;
        int nextAttempt;
        int attempt = -1; // of the current run
        Object group; // the pending restart it waits for
        final List<Long> limitTimes = new ArrayList<>();

        Child(String name, ChildSpec spec) {
            this.name = name;
            this.spec = spec;
        }

        String path() {
            return "s/" + name;
        }
    }

    private record Timer(long due, long seq, Object group, List<Child> members) {}

    final SupSpec sup;
    final List<Child> children = new ArrayList<>();
    final Map<String, List<String>> events = new LinkedHashMap<>();
    ServiceState supState = ServiceState.NEW;
    private final List<Long> intensityTimes = new ArrayList<>();
    private final List<Timer> timers = new ArrayList<>();
    private long now; // millis on the virtual clock, from the start
    private long seq;
    private int names; // children are named c0, c1, … in the order added, never reused

    SupervisionModel(SupSpec sup, List<ChildSpec> specs) {
        this.sup = sup;
        for (ChildSpec spec : specs) {
            children.add(new Child("c" + names++, spec));
        }
    }

    boolean supRunning() {
        return supState == ServiceState.RUNNING;
    }

    Child child(int index) {
        return index < children.size() ? children.get(index) : null;
    }

    private void event(String path, String what) {
        events.computeIfAbsent(path, p -> new ArrayList<>()).add(what);
    }

    // ---- operations ----

    void start() {
        supState = ServiceState.RUNNING;
        event("s", "Started 0");
        for (Child c : children) {
            startChild(c);
        }
    }

    private void startChild(Child c) {
        c.attempt = c.nextAttempt++;
        c.state = ServiceState.RUNNING;
        c.group = null;
        event(c.path(), "Started " + c.attempt);
        event(c.path(), "Ready");
    }

    /** The current run of child {@code index} ends by itself; false if it does not run. */
    boolean end(int index, End how) {
        Child c = child(index);
        if (c == null || c.state != ServiceState.RUNNING || !supRunning()) {
            return false;
        }
        boolean failed = how == End.FAIL;
        event(
                c.path(),
                switch (how) {
                    case COMPLETE -> "Completed";
                    case FAIL -> "Failed";
                    case STOP_SERVICE -> "StoppedOnPurpose";
                });
        boolean restarts = how != End.STOP_SERVICE
                && switch (c.spec.mode()) {
                    case NEVER -> false;
                    case ALWAYS -> true;
                    case ON_FAILURE -> failed;
                };
        if (!restarts) {
            c.state = failed ? ServiceState.FAILED : ServiceState.STOPPED;
            autoShutdownAfter(c);
            return true;
        }
        restart(c);
        return true;
    }

    private void restart(Child c) {
        if (c.spec.limit() > 0) {
            int made = count(c.limitTimes, c.spec.limitWindow());
            if (made >= c.spec.limit()) {
                c.state = ServiceState.FAILED;
                escalate(c, made, c.spec.limitWindow());
                return;
            }
            c.limitTimes.add(now);
        }
        if (sup.intensity() >= 0) {
            int made = count(intensityTimes, sup.intensityWindow());
            if (made >= sup.intensity()) {
                c.state = ServiceState.FAILED;
                escalate(c, made, sup.intensityWindow());
                return;
            }
            intensityTimes.add(now);
        }
        List<Child> group = switch (sup.strategy()) {
            case ONE_FOR_ONE -> List.of(c);
            case ONE_FOR_ALL -> children;
            case REST_FOR_ONE -> children.subList(children.indexOf(c), children.size());
        };
        group = group.stream()
                .filter(s -> s == c || s.state == ServiceState.RUNNING || s.state == ServiceState.RESTARTING)
                .toList();
        for (int i = group.size() - 1; i >= 0; i--) {
            Child s = group.get(i);
            if (s != c && s.state == ServiceState.RUNNING) {
                s.state = ServiceState.STOPPED;
                event(s.path(), "Stopped");
            } else if (s != c && s.state == ServiceState.RESTARTING) {
                leaveGroup(s);
                s.state = ServiceState.STOPPED;
            }
        }
        Object token = new Object();
        List<Child> members = new ArrayList<>();
        for (Child s : group) {
            if (s != c && s.spec.mode() == Mode.NEVER) {
                continue; // temporary: not started again by a sibling's restart
            }
            s.state = ServiceState.RESTARTING;
            s.group = token;
            members.add(s);
            event(s.path(), "Restarting " + c.spec.delay());
        }
        if (c.spec.delay().isZero()) {
            restartDue(token, members);
        } else {
            timers.add(new Timer(now + c.spec.delay().toMillis(), seq++, token, members));
        }
    }

    private void restartDue(Object token, List<Child> members) {
        if (!supRunning()) {
            return;
        }
        for (Child s : members) {
            if (s.group == token && s.state == ServiceState.RESTARTING) {
                startChild(s);
            }
        }
    }

    private void leaveGroup(Child c) {
        Object g = c.group;
        c.group = null;
        if (g != null && children.stream().noneMatch(o -> o.group == g)) {
            timers.removeIf(t -> t.group() == g);
        }
    }

    private int count(List<Long> times, Duration window) {
        long oldest = now - window.toMillis();
        times.removeIf(t -> t <= oldest);
        return times.size();
    }

    private void escalate(Child tipping, int restarts, Duration window) {
        event("s", "Escalated " + restarts + " " + window + " " + tipping.path());
        stopAll();
        event("s", "Failed");
        supState = ServiceState.FAILED;
    }

    private void autoShutdownAfter(Child c) {
        if (!c.spec.significant() || sup.autoShutdown() == AutoShutdown.NEVER) {
            return;
        }
        if (sup.autoShutdown() == AutoShutdown.ALL_SIGNIFICANT) {
            for (Child o : children) {
                if (o != c
                        && o.spec.significant()
                        && (o.state == ServiceState.RUNNING
                                || o.state == ServiceState.RESTARTING
                                || o.state == ServiceState.NEW)) {
                    return;
                }
            }
        }
        stopAll();
        event("s", "Completed");
        supState = ServiceState.STOPPED;
    }

    private void stopAll() {
        for (int i = children.size() - 1; i >= 0; i--) {
            Child c = children.get(i);
            if (c.state == ServiceState.RUNNING) {
                c.state = ServiceState.STOPPED;
                event(c.path(), "Stopped");
            } else if (c.state == ServiceState.RESTARTING || c.state == ServiceState.NEW) {
                c.group = null;
                c.state = ServiceState.STOPPED;
            }
        }
        timers.clear();
    }

    /** Moves the clock; restart delays that run out start their groups, in time order. */
    void advance(Duration d) {
        long target = now + d.toMillis();
        while (true) {
            Timer next = timers.stream()
                    .filter(t -> t.due() <= target)
                    .min((a, b) -> a.due() != b.due() ? Long.compare(a.due(), b.due()) : Long.compare(a.seq(), b.seq()))
                    .orElse(null);
            if (next == null) {
                break;
            }
            timers.remove(next);
            now = Math.max(now, next.due());
            restartDue(next.group(), next.members());
        }
        now = target;
    }

    void stopChild(int index) {
        Child c = child(index);
        if (c == null) {
            return;
        }
        if (!supRunning()) {
            if (c.state == ServiceState.NEW) {
                c.state = ServiceState.STOPPED; // added after the supervisor ended: it never starts now
            }
            return;
        }
        if (c.state == ServiceState.RUNNING) {
            event(c.path(), "Stopped");
            c.state = ServiceState.STOPPED;
        } else if (c.state == ServiceState.RESTARTING) {
            leaveGroup(c);
            c.state = ServiceState.STOPPED;
        }
    }

    /** False when the runtime must refuse it (the supervisor does not run). */
    boolean restartChild(int index) {
        Child c = child(index);
        if (c == null) {
            return true;
        }
        if (!supRunning()) {
            return false;
        }
        stopChild(index);
        startChild(c);
        return true;
    }

    /** Stops the child for good, as stopChild, and forgets it. */
    void removeChild(int index) {
        Child c = child(index);
        if (c == null) {
            return;
        }
        stopChild(index);
        leaveGroup(c);
        children.remove(c);
    }

    /** Adds a child and starts it if the supervisor runs; returns its name. */
    String add(ChildSpec spec) {
        Child c = new Child("c" + names++, spec);
        children.add(c);
        if (supRunning()) {
            startChild(c);
        }
        return c.name;
    }

    Map<String, ServiceState> states() {
        Map<String, ServiceState> out = new HashMap<>();
        out.put("s", supState);
        for (Child c : children) {
            out.put(c.path(), c.state);
        }
        return out;
    }
}
