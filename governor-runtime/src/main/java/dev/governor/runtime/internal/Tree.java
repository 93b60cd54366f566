package dev.governor.runtime.internal;

import dev.governor.GovernorEvent;
import dev.governor.GovernorOptions;
import dev.governor.Scheduler;
import dev.governor.ServiceState;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every node of one governor's tree shares: time, events, counts, and the shutdown in progress. */
final class Tree {
    static final Logger LOG = LoggerFactory.getLogger("dev.governor");
    /**
     * A supervisor loop busy with one message for longer than this, on the tree's clock, makes
     * the tree unhealthy (GovernorHooks.healthy): the loop is stuck, and nothing under it is
     * restarted or stopped until it moves on.
     */
    static final Duration LOOP_STALL = Duration.ofSeconds(30);

    final GovernorImpl governor;
    final GovernorOptions options;
    final InstantSource clock;
    final Scheduler scheduler;
    /**
     * Every run's context class loader: the one of the thread that made the governor. Set on each
     * run's thread, so that a run never hands its own (a run restarted on its predecessor's thread
     * would otherwise inherit whatever that run set).
     */
    final ClassLoader contextLoader = Thread.currentThread().getContextClassLoader();

    final EventBus bus = new EventBus();
    final Set<SupervisorImpl> runningLoops = ConcurrentHashMap.newKeySet();

    private final AtomicLongArray counts = new AtomicLongArray(ServiceState.values().length);
    private final AtomicBoolean statusPending = new AtomicBoolean();
    private String lastStatus = ""; // delivery thread only
    private final StopTimes stopTimes = new StopTimes();
    private final ConcurrentLinkedQueue<String> unstopped = new ConcurrentLinkedQueue<>();
    volatile boolean escalating;
    /** Set once the first service (not supervisor) run starts: the natural end needs one to have run. */
    volatile boolean serviceStarted;
    /** A syncReload between stopping one generation and starting the next: not the natural end. */
    volatile boolean syncReloading;

    private volatile Instant shutdownDeadline;

    Tree(GovernorImpl governor, GovernorOptions options) {
        this.governor = governor;
        this.options = options;
        this.clock = options.clock();
        this.scheduler = options.scheduler();
    }

    Instant now() {
        return clock.instant();
    }

    void publish(GovernorEvent event) {
        bus.publish(event);
    }

    // ---- counts per state ----

    void countTransition(ServiceState from, ServiceState to) {
        synchronized (counts) { // a transition moves one node at once: readers never see it twice
            if (from != null) {
                counts.decrementAndGet(from.ordinal());
            }
            if (to != null) {
                counts.incrementAndGet(to.ordinal());
            }
        }
        statusMayHaveChanged();
    }

    /**
     * Adds {@code added[state.ordinal()]} to each state's count at once (a subtree that joins, a batch
     * of starts), then zeroes {@code added} for the next batch.
     */
    void countAdded(long[] added) {
        boolean any = false;
        synchronized (counts) {
            for (int i = 0; i < added.length; i++) {
                if (added[i] != 0) {
                    counts.addAndGet(i, added[i]);
                    added[i] = 0;
                    any = true;
                }
            }
        }
        if (any) {
            statusMayHaveChanged();
        }
    }

    private void statusMayHaveChanged() {
        if (bus.hasLifecycleListeners() && statusPending.compareAndSet(false, true)) {
            bus.inOrder(() -> {
                statusPending.set(false);
                String line = statusLine();
                if (!line.equals(lastStatus)) {
                    lastStatus = line;
                    bus.lifecycle(l -> l.statusChanged(line));
                }
            });
        }
    }
    /** "5 running, 1 restarting": the non-zero counts in lifecycle order. */
    String statusLine() {
        synchronized (counts) {
            // the readiness log line asks for it on every readiness change: a lone service restarted in a
            // loop alternates between two lines ("1 restarting", "1 running"), so the last two are kept
            for (int e = 0; e < lineCounts.length; e++) {
                if (sameCounts(lineCounts[e])) {
                    return lines[e];
                }
            }
            long[] snapshot = new long[counts.length()];
            for (int i = 0; i < snapshot.length; i++) {
                snapshot[i] = counts.get(i);
            }
            StringBuilder line = new StringBuilder(48);
            for (ServiceState s : STATES) {
                long n = snapshot[s.ordinal()];
                if (n > 0) {
                    line.append(line.isEmpty() ? "" : ", ")
                            .append(n)
                            .append(' ')
                            .append(STATE_WORDS[s.ordinal()]);
                }
            }
            String made = line.isEmpty() ? "no services" : line.toString();
            int e = nextLineEntry;
            nextLineEntry = (e + 1) % lines.length;
            lineCounts[e] = snapshot;
            lines[e] = made;
            return made;
        }
    }

    private boolean sameCounts(long[] c) {
        if (c == null) {
            return false;
        }
        for (int i = 0; i < c.length; i++) {
            if (c[i] != counts.get(i)) {
                return false;
            }
        }
        return true;
    }

    /** The last snapshot a child of this tree published, for the next to share (see Child.Snapshot). */
    Child.Snapshot lastSnapshot;

    private final long[][] lineCounts = new long[2][]; // guarded by counts: the counts of lines[i]
    private final String[] lines = new String[2]; // guarded by counts
    private int nextLineEntry; // guarded by counts

    /** How many nodes are in {@code state} now. */
    long count(ServiceState state) {
        return counts.get(state.ordinal());
    }

    // statusLine runs on every readiness change (each restart cycle of a lone service): no per-call lower-casing
    private static final ServiceState[] STATES = ServiceState.values();
    private static final String[] STATE_WORDS = java.util.Arrays.stream(STATES)
            .map(st -> st.name().toLowerCase(java.util.Locale.ROOT))
            .toArray(String[]::new);

    boolean healthy() {
        if (counts.get(ServiceState.FAILED.ordinal()) > 0 || escalating) {
            return false;
        }
        long stalledIfBefore = clock.millis() - LOOP_STALL.toMillis();
        for (SupervisorImpl loop : runningLoops) {
            long since = loop.busySince();
            if (since != SupervisorLoop.IDLE && since < stalledIfBefore) {
                return false;
            }
        }
        return true;
    }

    // ---- threads ----

    final java.util.concurrent.atomic.LongAdder liveRuns = new java.util.concurrent.atomic.LongAdder();

    /** Names of threads of this tree still alive; see GovernorHooks.liveThreads(). */
    List<String> liveThreads(SupervisorImpl root) {
        List<String> out = new ArrayList<>();
        if (liveRuns.sum() > 0) {
            collectLiveRuns(root, out);
            if (out.isEmpty()) {
                out.add(liveRuns.sum() + " run(s) of removed services");
            }
        }
        for (SupervisorImpl loop : runningLoops) {
            out.add("supervisor loop \"" + loop.name() + "\"");
        }
        if (bus.busy()) {
            out.add("governor-events");
        }
        return out;
    }

    /** Paths of runs that have not returned, depth first (racy by design: diagnostics only). */
    private static void collectLiveRuns(SupervisorImpl sup, List<String> out) {
        for (Child c : sup.childrenView()) {
            Run r = c.run;
            if (r != null && !r.exited()) {
                out.add(c.path() + (r.unstopped ? " (unstopped)" : ""));
            }
            if (c.service instanceof SupervisorImpl s) {
                collectLiveRuns(s, out);
            }
        }
    }

    // ---- shutdown ----

    boolean shuttingDown() {
        return governor.stopping();
    }

    void beginShutdown(String reason, int exitCode, Throwable cause) {
        governor.beginShutdown(reason, exitCode, cause);
    }

    void setShutdownDeadline(Instant deadline) {
        shutdownDeadline = deadline;
    }

    /** When the whole-shutdown bound runs out, or null when no shutdown is under way. */
    Instant shutdownDeadline() {
        return shutdownDeadline;
    }

    /** Time left of the whole-shutdown bound, or null when no shutdown is under way. */
    Duration shutdownTimeLeft() {
        return shutdownDeadline == null ? null : shutdownTimeLeft(now());
    }

    /** {@link #shutdownTimeLeft()} at {@code now}, a time the caller has just read. */
    Duration shutdownTimeLeft(Instant now) {
        Instant d = shutdownDeadline;
        if (d == null) {
            return null;
        }
        Duration left = Duration.between(now, d);
        return left.isNegative() ? Duration.ZERO : left;
    }

    void rootReady(boolean ready) {
        governor.rootReady(ready);
    }

    void recordStopTime(String path, Duration time) {
        if (shutdownDeadline != null) {
            stopTimes.add(path, time);
            if (bus.hasLifecycleListeners()) { // no captured lambda per stopped child when nobody listens
                bus.lifecycle(l -> l.shutdownProgress(path));
            }
        }
    }

    /** {@code paths[0..n)} stopped in that order, {@code paths[i]} in {@code times[i]}: a pool's stop in one call. */
    void recordStopTimes(String[] paths, Duration[] times, int n) {
        if (shutdownDeadline != null && n > 0) {
            stopTimes.addAll(paths, times, n);
            if (bus.hasLifecycleListeners()) {
                for (int i = 0; i < n; i++) {
                    String path = paths[i];
                    bus.lifecycle(l -> l.shutdownProgress(path));
                }
            }
        }
    }

    void recordUnstopped(String path) {
        if (shutdownDeadline != null) {
            unstopped.add(path);
        }
    }

    /** The stop times recorded so far, in stop order, as a map to be copied (see StopTimes#inOrder). */
    Map<String, Duration> stopTimes() {
        return stopTimes.inOrder();
    }

    List<String> unstopped() {
        return List.copyOf(unstopped);
    }
}
