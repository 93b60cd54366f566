package dev.governor.runtime.metrics;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import dev.governor.ShutdownReport;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.GovernorRuntime;
import dev.governor.runtime.LifecycleListener;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The meters of one governor, for any Micrometer registry (after Micrometer's
 * {@code JvmThreadMetrics}: one binder, a description and a base unit on every meter, counters
 * over the governor's own counts, {@link #bindTo} never throws).
 *
 * <pre>{@code
 * GovernorMetrics.builder(gov).aggregateChildrenOf("workers").build().bindTo(registry);
 * }</pre>
 *
 * <h2>Meters</h2>
 * Per node of the tree, tag {@code service} = its path:
 * <ul>
 *   <li>{@code governor.service.up} — 1 while RUNNING, else 0;
 *   <li>{@code governor.service.ready} — 1 while its current run is ready;
 *   <li>{@code governor.service.restarts} — restarts, the governor's own count ({@link ServiceInfo#restarts()});
 *   <li>{@code governor.service.failures} — failed runs, tag {@code exception} = class name of the cause;
 *   <li>{@code governor.service.uptime} — seconds since the current run began (0 when not running);
 *   <li>{@code governor.service.run.duration} — timer of finished runs, tag {@code outcome} =
 *       {@code completed}, {@code stopped} (on purpose or by a stop request), {@code failed}, {@code fatal}.
 * </ul>
 * Per governor: {@code governor.services} (nodes per {@code state}, every state listed),
 * {@code governor.ready}, {@code governor.healthy}, {@code governor.shutdown.duration} (time spent
 * in the shutdown so far, then its final duration; 0 before shutdown).
 *
 * <p>The 0/1 gauges ({@code up}, {@code ready}, {@code healthy}) have no base unit on purpose: a
 * boolean has none, and a unit would be appended to the Prometheus name ({@code governor_service_up}).
 *
 * <h2>Pools</h2>
 * A node with a million children cannot have a million series per meter. A supervisor marked
 * with {@link Builder#aggregateChildrenOf} keeps its own per-node series, while all its
 * descendants are counted instead: {@code governor.supervisor.children} (tags
 * {@code supervisor}, {@code state}), {@code governor.supervisor.children.restarts} and
 * {@code governor.supervisor.children.failures} (tag {@code exception}). The number of series
 * then no longer depends on the size of the pool.
 *
 * <h2>Cost</h2>
 * A scrape reads the tree once: the first meter read builds a {@link TreeSnapshot} in one pass
 * over {@link Governor#services()}, and every other meter of that scrape reads the same snapshot
 * (kept {@value #SNAPSHOT_TTL_MILLIS} ms, or until an event of a node outside pools), so one scrape
 * sees one consistent tree. The counts of a pool may thus lag its members by up to
 * {@value #SNAPSHOT_TTL_MILLIS} ms.
 *
 * <p>Series of a node appear when it first shows up (an event or a scrape) and are removed once it
 * is no longer in the tree ({@code removeChild}): within a second of the change of state counts,
 * or after the first scrape that no longer finds it (which shows it as NaN).
 * Events that happen before the first {@code bindTo} are not counted: bind before {@code start()}.
 */
public final class GovernorMetrics implements MeterBinder {
    private static final Logger LOG = LoggerFactory.getLogger(GovernorMetrics.class);
    static final long SNAPSHOT_TTL_MILLIS = 100;
    private static final long RECONCILE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Governor governor;
    private final Optional<GovernorHooks> hooks;
    private final Set<String> pools;
    private final Tags tags;
    private final List<MeterRegistry> registries = new CopyOnWriteArrayList<>();
    private final Map<String, ServiceMeters> services = new ConcurrentHashMap<>();
    private final Map<String, PoolMeters> poolMeters = new ConcurrentHashMap<>();
    private final AtomicBoolean listening = new AtomicBoolean();
    private final AtomicBoolean reconcileQueued = new AtomicBoolean();
    private volatile Cached cached;
    /** Grows with every event of a node outside pools: a snapshot read before it is stale at once. */
    private final java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();

    private long lastReconciled = Long.MIN_VALUE; // takenNanos of the last snapshot reconciled; under this
    private volatile long lastReconcileNanos = System.nanoTime() - RECONCILE_INTERVAL_NANOS;
    /** Events seen between {@link #listenAhead()} and the first bind, in order; null otherwise. Under this. */
    private volatile List<GovernorEvent> early;

    private volatile Instant shutdownBegan;
    private volatile Duration shutdownTook;

    private GovernorMetrics(Governor governor, Optional<GovernorHooks> hooks, Set<String> pools, Tags tags) {
        this.governor = governor;
        this.hooks = hooks;
        this.pools = Set.copyOf(pools);
        this.tags = tags;
        for (String pool : this.pools) {
            poolMeters.put(pool, new PoolMeters(this, pool, tags, registries));
        }
    }

    /** The meters of {@code governor}, no pools, no extra tags. */
    public static GovernorMetrics of(Governor governor) {
        return builder(governor).build();
    }

    public static Builder builder(Governor governor) {
        Objects.requireNonNull(governor, "governor");
        Optional<GovernorHooks> hooks;
        try {
            hooks = Optional.of(GovernorRuntime.hooks(governor));
        } catch (IllegalArgumentException notOurs) {
            hooks = Optional.empty(); // another runtime: everything but healthy and the end of shutdown
        }
        return new Builder(governor, hooks);
    }

    /** For tests: hooks given rather than looked up. */
    static Builder builder(Governor governor, GovernorHooks hooks) {
        return new Builder(Objects.requireNonNull(governor, "governor"), Optional.of(hooks));
    }

    /** The governor these meters observe. */
    public Governor governor() {
        return governor;
    }

    /** Paths of the supervisors whose descendants are counted rather than given series. */
    public Set<String> pools() {
        return pools;
    }

    /** The tree as the meters see it now (read at most {@value #SNAPSHOT_TTL_MILLIS} ms ago). */
    TreeSnapshot snapshot() {
        Cached c = cached;
        if (c != null
                && c.changes == changes.get()
                && System.nanoTime() - c.snapshot.takenNanos() < TimeUnit.MILLISECONDS.toNanos(SNAPSHOT_TTL_MILLIS)) {
            return c.snapshot;
        }
        return refresh();
    }

    /** Reads the tree now; if nodes came or went, the meters follow them (off this thread). */
    TreeSnapshot refresh() {
        TreeSnapshot s = read();
        if (!registries.isEmpty() && differsFromMeters(s)) {
            queueReconcile();
        }
        return s;
    }

    private TreeSnapshot read() {
        long seen = changes.get(); // before reading: a change during the read makes it stale
        TreeSnapshot s = TreeSnapshot.of(
                governor.services(), pools, governor.options().clock().instant());
        cached = new Cached(s, seen);
        return s;
    }

    private record Cached(TreeSnapshot snapshot, long changes) {}

    @Override
    public void bindTo(MeterRegistry registry) {
        try {
            Objects.requireNonNull(registry, "registry");
            if (registries.contains(registry)) {
                return;
            }
            listen();
            registries.add(registry);
            bindGovernorMeters(registry);
            for (PoolMeters pool : poolMeters.values()) {
                pool.bind(registry);
            }
            synchronized (this) {
                for (ServiceMeters s : services.values()) {
                    s.bind(registry);
                }
                replayEarly();
            }
            reconcile(refresh());
        } catch (RuntimeException e) {
            LOG.warn("cannot bind the meters of {} to {}; carrying on without them", governor, registry, e);
            dropEarly();
        }
    }

    /**
     * Subscribes to the governor's events now, before the first {@link #bindTo}: what happens in
     * between (a start, a failure) is held and counted when that bind comes, so that a registry
     * built on another thread while the governor starts ({@link GovernorEndpoint}) misses nothing.
     * Until then the held events are the only cost; {@link #dropEarly()} lets them go if no bind
     * will come.
     */
    void listenAhead() {
        synchronized (this) {
            if (registries.isEmpty() && early == null) {
                early = new ArrayList<>();
            }
        }
        listen();
    }

    /** How many events are held for the first bind (for tests). */
    synchronized int heldEvents() {
        return early == null ? 0 : early.size();
    }

    /** No bind will come after {@link #listenAhead()}: count from here on, without the held events. */
    void dropEarly() {
        synchronized (this) {
            early = null;
        }
    }

    /** Counts the held events in order; under this, so an event that comes meanwhile waits its turn. */
    private void replayEarly() {
        List<GovernorEvent> held = early;
        if (held != null) {
            held.forEach(this::count);
            early = null;
        }
    }

    private void listen() {
        if (listening.compareAndSet(false, true)) {
            governor.onEvent(this::onEvent);
            hooks.ifPresent(h -> h.addLifecycleListener(new LifecycleListener() {
                @Override
                public void statusChanged(String statusLine) {
                    queueReconcile();
                }

                @Override
                public void shutdownBegan(String reason) {
                    if (shutdownBegan == null) {
                        shutdownBegan = governor.options().clock().instant();
                    }
                }

                @Override
                public void stopped(ShutdownReport report) {
                    shutdownTook = report.duration();
                }
            }));
        }
    }

    private void bindGovernorMeters(MeterRegistry registry) {
        for (ServiceState state : TreeSnapshot.STATES) {
            Gauge.builder("governor.services", this, m -> m.snapshot().count(state))
                    .description("Nodes of the tree (services and supervisors) in this state")
                    .baseUnit("services")
                    .tags(tags)
                    .tag("state", stateTag(state))
                    .register(registry);
        }
        Gauge.builder("governor.ready", this, m -> m.governor.isReady() ? 1 : 0)
                .description("1 while every started service is ready and shutdown has not begun, else 0")
                .tags(tags)
                .register(registry);
        hooks.ifPresent(h -> Gauge.builder("governor.healthy", h, x -> x.healthy() ? 1 : 0)
                .description(
                        "1 while no node is FAILED, no escalation is under way and no supervisor loop is stalled, else 0")
                .tags(tags)
                .register(registry));
        TimeGauge.builder("governor.shutdown.duration", this, TimeUnit.SECONDS, GovernorMetrics::shutdownSeconds)
                .description("Time spent shutting down: growing during the shutdown, then its total; 0 before")
                .tags(tags)
                .register(registry);
        ReloadMeters.bind(governor, tags, registry);
    }

    private double shutdownSeconds() {
        Duration took = shutdownTook;
        if (took != null) {
            return seconds(took);
        }
        Instant began = shutdownBegan;
        return began == null
                ? 0
                : seconds(Duration.between(began, governor.options().clock().instant()));
    }

    // ---- events ---------------------------------------------------------------------------

    private void onEvent(GovernorEvent event) {
        if (early != null && needsRegistry(event)) {
            synchronized (this) {
                if (early != null) {
                    early.add(event);
                    return;
                }
            }
        }
        count(event);
    }

    /**
     * Whether counting {@code event} touches a registry, so that it must be held until the bind: a
     * pool member's event only when it failed (its restarts are counted without one, its other
     * events not at all), so that a pool of a million starting is not held in memory.
     */
    private boolean needsRegistry(GovernorEvent event) {
        String path = event.service();
        return !path.isEmpty() && (TreeSnapshot.poolOf(path, pools) == null || event instanceof GovernorEvent.Failed);
    }

    private void count(GovernorEvent event) {
        try {
            String path = event.service();
            String pool = TreeSnapshot.poolOf(path, pools);
            if (pool == null) {
                changes.incrementAndGet(); // members of pools do not: their counts may lag one snapshot lifetime
            }
            if (path.isEmpty()) {
                if (event instanceof GovernorEvent.ShutdownRequested && shutdownBegan == null) {
                    shutdownBegan = event.at();
                }
                return;
            }
            if (pool != null) {
                poolMeters.get(pool).on(event);
                return;
            }
            ServiceMeters s = services.get(path);
            if (s == null) {
                s = register(path);
            }
            s.on(event);
        } catch (RuntimeException e) {
            LOG.warn("metrics of {} could not count {}", governor, event, e);
        }
    }

    // ---- per service meters: appear and go with the nodes ------------------------------------

    private synchronized ServiceMeters register(String path) {
        ServiceMeters s = services.get(path);
        if (s == null) {
            s = new ServiceMeters(this, path, tags, registries);
            services.put(path, s);
            for (MeterRegistry registry : registries) {
                s.bind(registry);
            }
        }
        return s;
    }

    private boolean differsFromMeters(TreeSnapshot s) {
        if (s.nodes().size() != services.size()) {
            return true;
        }
        for (String path : s.nodes().keySet()) {
            if (!services.containsKey(path)) {
                return true;
            }
        }
        return false;
    }

    private void queueReconcile() {
        if (registries.isEmpty() || !reconcileQueued.compareAndSet(false, true)) {
            return;
        }
        // off the scrape and event threads, and at most once per RECONCILE_INTERVAL: each costs one
        // pass over the tree, and a big pool changes state counts many times a second while it starts
        Thread.ofVirtual().name("governor-metrics-reconcile").start(() -> {
            long wait = lastReconcileNanos + RECONCILE_INTERVAL_NANOS - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            reconcileQueued.set(false);
            try {
                reconcile(read());
            } catch (RuntimeException e) {
                LOG.warn("metrics of {} could not follow the tree", governor, e);
            }
        });
    }

    /** Adds the series of new nodes and removes those of nodes no longer in the tree. */
    synchronized void reconcile(TreeSnapshot s) {
        if (s.takenNanos() - lastReconciled < 0 && lastReconciled != Long.MIN_VALUE) {
            return; // an older read than one already applied
        }
        lastReconciled = s.takenNanos();
        lastReconcileNanos = System.nanoTime();
        for (String path : s.nodes().keySet()) {
            if (!services.containsKey(path)) {
                register(path);
            }
        }
        for (ServiceMeters m : List.copyOf(services.values())) {
            // a node registered by an event after this read is kept: the read may predate it
            if (!s.nodes().containsKey(m.path) && m.registeredNanos - s.takenNanos() < 0) {
                services.remove(m.path);
                m.unbind();
            }
        }
    }

    static String stateTag(ServiceState state) {
        return state.name().toLowerCase(java.util.Locale.ROOT);
    }

    static double seconds(Duration d) {
        return d.getSeconds() + d.getNano() / 1e9;
    }

    @Override
    public String toString() {
        Cached c = cached;
        TreeSnapshot s = c == null ? null : c.snapshot;
        return "GovernorMetrics[services=" + services.size() + ", pools=" + pools + ", registries=" + registries.size()
                + ", tree=" + (s == null ? "not read" : s.total() + " nodes") + "]";
    }

    /** Options of {@link GovernorMetrics}. */
    public static final class Builder {
        private final Governor governor;
        private final Optional<GovernorHooks> hooks;
        private final Set<String> pools = new LinkedHashSet<>();
        private Tags tags = Tags.empty();

        private Builder(Governor governor, Optional<GovernorHooks> hooks) {
            this.governor = governor;
            this.hooks = hooks;
        }

        /**
         * Marks the supervisor at {@code supervisorPath} (e.g. {@code "workers"}) as a pool: its
         * descendants are counted in {@code governor.supervisor.children} rather than each having
         * series of their own. The supervisor itself keeps its own series.
         */
        public Builder aggregateChildrenOf(String supervisorPath) {
            if (supervisorPath == null
                    || supervisorPath.isBlank()
                    || supervisorPath.startsWith("/")
                    || supervisorPath.endsWith("/")) {
                throw new IllegalArgumentException(
                        "supervisorPath must be a path from the root such as \"workers\" or \"db/pool\", was "
                                + (supervisorPath == null ? "null" : "\"" + supervisorPath + "\""));
            }
            pools.add(supervisorPath);
            return this;
        }

        /** Tags added to every meter, e.g. {@code Tags.of("governor", "ingest")}. */
        public Builder tags(Iterable<Tag> more) {
            this.tags = this.tags.and(Objects.requireNonNull(more, "tags"));
            return this;
        }

        public GovernorMetrics build() {
            return new GovernorMetrics(governor, hooks, pools, tags);
        }
    }
}
