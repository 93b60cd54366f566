package dev.governor.runtime.metrics;

import static dev.governor.runtime.metrics.GovernorMetrics.seconds;

import dev.governor.GovernorEvent;
import dev.governor.ServiceInfo;
import dev.governor.ServiceState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/** The meters of one node outside pools, in every bound registry. */
final class ServiceMeters {
    final String path;
    final long registeredNanos = System.nanoTime();
    final Tags serviceTags;
    final List<Bound> meters = new CopyOnWriteArrayList<>();
    final Map<String, Boolean> lazyKeys = new ConcurrentHashMap<>();
    volatile Instant runBegan;

    private final GovernorMetrics metrics;
    private final List<MeterRegistry> registries;

    ServiceMeters(GovernorMetrics metrics, String path, Tags tags, List<MeterRegistry> registries) {
        this.metrics = metrics;
        this.path = path;
        this.serviceTags = tags.and("service", path);
        this.registries = registries;
    }

    ServiceInfo info() {
        return metrics.snapshot().nodes().get(path);
    }

    double read(ToDoubleFunction<ServiceInfo> f) {
        ServiceInfo info = info();
        return info == null ? Double.NaN : f.applyAsDouble(info);
    }

    void bind(MeterRegistry registry) {
        add(
                registry,
                Gauge.builder("governor.service.up", this, m -> m.read(i -> i.state() == ServiceState.RUNNING ? 1 : 0))
                        .description("1 while the service runs (state RUNNING), else 0")
                        .tags(serviceTags)
                        .register(registry));
        add(
                registry,
                Gauge.builder("governor.service.ready", this, m -> m.read(i -> i.ready() ? 1 : 0))
                        .description("1 while the current run of the service is ready, else 0")
                        .tags(serviceTags)
                        .register(registry));
        add(
                registry,
                FunctionCounter.builder("governor.service.restarts", this, m -> m.read(ServiceInfo::restarts))
                        .description("Times the service was restarted")
                        .baseUnit("restarts")
                        .tags(serviceTags)
                        .register(registry));
        add(
                registry,
                TimeGauge.builder("governor.service.uptime", this, TimeUnit.SECONDS, m -> m.read(m::uptimeSeconds))
                        .description("Time since the current run of the service began; 0 when it does not run")
                        .tags(serviceTags)
                        .register(registry));
        for (String key : lazyKeys.keySet()) {
            lazy(registry, key);
        }
    }

    double uptimeSeconds(ServiceInfo info) {
        return seconds(dev.governor.runtime.internal.StatusJson.uptime(
                info, metrics.snapshot().at()));
    }

    void on(GovernorEvent event) {
        switch (event) {
            case GovernorEvent.Started s -> runBegan = s.at();
            case GovernorEvent.Failed f -> {
                String exception = f.cause().getClass().getName();
                for (MeterRegistry registry : registries) {
                    ((Counter) lazy(registry, "failures:" + exception)).increment();
                }
                ended(event);
            }
            case GovernorEvent.Completed c -> ended(event);
            case GovernorEvent.StoppedOnPurpose s -> ended(event);
            case GovernorEvent.Stopped s -> ended(event);
            default -> {}
        }
    }

    private void ended(GovernorEvent end) {
        Instant began = runBegan;
        runBegan = null;
        if (began == null) {
            return; // the run began before the meters were bound
        }
        Duration took = Duration.between(began, end.at());
        for (MeterRegistry registry : registries) {
            ((Timer) lazy(registry, "run:" + outcome(end))).record(took.isNegative() ? Duration.ZERO : took);
        }
    }

    /** A meter made on first use (one per exception class, per outcome), kept for removal. */
    private Meter lazy(MeterRegistry registry, String key) {
        lazyKeys.putIfAbsent(key, Boolean.TRUE);
        int colon = key.indexOf(':');
        String value = key.substring(colon + 1);
        Meter meter = key.startsWith("failures:")
                ? Counter.builder("governor.service.failures")
                        .description("Runs of the service that failed, by exception class")
                        .baseUnit("failures")
                        .tags(serviceTags)
                        .tag("exception", value)
                        .register(registry)
                : Timer.builder("governor.service.run.duration")
                        .description("Duration of finished runs of the service, by outcome")
                        .tags(serviceTags)
                        .tag("outcome", value)
                        .register(registry);
        add(registry, meter);
        return meter;
    }

    private void add(MeterRegistry registry, Meter meter) {
        Bound b = new Bound(registry, meter);
        if (!meters.contains(b)) {
            meters.add(b);
        }
    }

    void unbind() {
        for (Bound b : meters) {
            b.registry.remove(b.meter);
        }
        meters.clear();
    }

    @Override
    public String toString() {
        return "ServiceMeters[" + path + ", meters=" + meters.size() + "]";
    }

    private static String outcome(GovernorEvent end) {
        return switch (end) {
            case GovernorEvent.Completed c -> "completed";
            case GovernorEvent.StoppedOnPurpose s -> "stopped";
            case GovernorEvent.Stopped s -> "stopped";
            case GovernorEvent.Failed f -> f.cause() instanceof VirtualMachineError ? "fatal" : "failed";
            default -> null;
        };
    }

    private record Bound(MeterRegistry registry, Meter meter) {}
}
