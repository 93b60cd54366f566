package dev.governor.runtime.metrics;

import dev.governor.Governor;
import dev.governor.GovernorEvent;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.GovernorRuntime;
import dev.governor.runtime.ReloadableStatus;
import dev.governor.runtime.listen.GovernorListeners;
import dev.governor.runtime.listen.ListenerInfo;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The meters of reloads and of the sockets a governor owns:
 * <ul>
 *   <li>{@code governor.listener.info} — 1 per listener, tags {@code name}, {@code address}, {@code source};
 *   <li>per reloadable node, tag {@code service}: {@code governor.reload.generation} (the generation
 *       serving), {@code governor.reload.last.success} (1 after a reload, 0 after a refusal, NaN
 *       before any), {@code governor.reload.last.timestamp} (seconds since the epoch, NaN before any),
 *       {@code governor.reloads} (counter, tag {@code outcome} = {@code reloaded} or {@code refused}).
 * </ul>
 * Nodes are read from the tree at most once a second (a walk of the tree), so a scrape costs one walk.
 */
final class ReloadMeters {
    private static final long CACHE_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Governor governor;
    private final Optional<GovernorHooks> hooks;
    private final Tags tags;
    private final MeterRegistry registry;
    private final Set<String> registered = ConcurrentHashMap.newKeySet();
    private volatile List<ReloadableStatus> cached = List.of();
    private volatile long cachedAt;

    private ReloadMeters(Governor governor, Tags tags, MeterRegistry registry) {
        this.governor = governor;
        this.tags = tags;
        this.registry = registry;
        Optional<GovernorHooks> h;
        try {
            h = Optional.of(GovernorRuntime.hooks(governor));
        } catch (IllegalArgumentException notOurs) {
            h = Optional.empty();
        }
        this.hooks = h;
    }

    static void bind(Governor governor, Tags tags, MeterRegistry registry) {
        ReloadMeters m = new ReloadMeters(governor, tags, registry);
        if (governor.listeners() instanceof GovernorListeners listeners) {
            listeners.onSettled(m::listener);
            listeners.info().forEach(m::listener);
        }
        if (m.hooks.isPresent()) {
            governor.onEvent(event -> {
                if (event instanceof GovernorEvent.Reloaded || event instanceof GovernorEvent.ReloadRefused) {
                    m.cachedAt = 0;
                    m.node(event.service());
                }
            });
            m.statuses().forEach(s -> m.node(s.name()));
        }
    }

    private void listener(ListenerInfo info) {
        Gauge.builder("governor.listener.info", () -> 1)
                .description("A socket the governor owns for the life of the process; 1 per listener")
                .tags(tags)
                .tag("name", info.name())
                .tag("address", info.address())
                .tag("source", info.source())
                .register(registry);
    }

    private List<ReloadableStatus> statuses() {
        long now = System.nanoTime();
        if (now - cachedAt > CACHE_NANOS || cachedAt == 0) {
            cached = hooks.map(GovernorHooks::reloadables).orElse(List.of());
            cachedAt = now | 1;
        }
        return cached;
    }

    private double read(String name, ToDoubleFunction<ReloadableStatus> f) {
        for (ReloadableStatus s : statuses()) {
            if (s.name().equals(name)) {
                return f.applyAsDouble(s);
            }
        }
        return Double.NaN;
    }

    private void node(String name) {
        if (!registered.add(name)) {
            return;
        }
        Gauge.builder("governor.reload.generation", this, m -> m.read(name, ReloadableStatus::generation))
                .description("The generation of a reloadable node serving now (1 until its first reload)")
                .tags(tags)
                .tag("service", name)
                .register(registry);
        Gauge.builder(
                        "governor.reload.last.success",
                        this,
                        m -> m.read(name, s -> switch (s.lastOutcome()) {
                            case "reloaded" -> 1;
                            case "refused" -> 0;
                            default -> Double.NaN;
                        }))
                .description(
                        "1 if the last reload of the node succeeded, 0 if it was refused (the old generation kept serving)")
                .tags(tags)
                .tag("service", name)
                .register(registry);
        Gauge.builder(
                        "governor.reload.last.timestamp",
                        this,
                        m -> m.read(
                                name,
                                s -> s.lastAt()
                                        .map(t -> t.toEpochMilli() / 1000.0)
                                        .orElse(Double.NaN)))
                .description("When the last reload of the node ended, in seconds since the epoch")
                .baseUnit("seconds")
                .tags(tags)
                .tag("service", name)
                .register(registry);
        FunctionCounter.builder("governor.reloads", this, m -> m.read(name, ReloadableStatus::reloads))
                .description("Reloads of the node, by outcome")
                .tags(tags)
                .tag("service", name)
                .tag("outcome", "reloaded")
                .register(registry);
        FunctionCounter.builder("governor.reloads", this, m -> m.read(name, ReloadableStatus::refusals))
                .description("Reloads of the node, by outcome")
                .tags(tags)
                .tag("service", name)
                .tag("outcome", "refused")
                .register(registry);
    }
}
