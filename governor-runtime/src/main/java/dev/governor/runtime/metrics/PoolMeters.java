package dev.governor.runtime.metrics;

import static dev.governor.runtime.metrics.GovernorMetrics.stateTag;

import dev.governor.GovernorEvent;
import dev.governor.ServiceState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/** The meters of the descendants of one pool supervisor, counted together. */
final class PoolMeters {
    final String pool;
    final Tags poolTags;
    final LongAdder restarts = new LongAdder();

    private final GovernorMetrics metrics;
    private final List<MeterRegistry> registries;

    PoolMeters(GovernorMetrics metrics, String pool, Tags tags, List<MeterRegistry> registries) {
        this.metrics = metrics;
        this.pool = pool;
        this.poolTags = tags.and("supervisor", pool);
        this.registries = registries;
    }

    void bind(MeterRegistry registry) {
        for (ServiceState state : TreeSnapshot.STATES) {
            Gauge.builder(
                            "governor.supervisor.children",
                            metrics,
                            m -> m.snapshot().poolCount(pool, state))
                    .description("Descendants of a pool supervisor in this state (pools are counted, not listed)")
                    .baseUnit("children")
                    .tags(poolTags)
                    .tag("state", stateTag(state))
                    .register(registry);
        }
        FunctionCounter.builder("governor.supervisor.children.restarts", restarts, LongAdder::doubleValue)
                .description("Restarts of the descendants of a pool supervisor")
                .baseUnit("restarts")
                .tags(poolTags)
                .register(registry);
    }

    void on(GovernorEvent event) {
        switch (event) {
            case GovernorEvent.Restarting r -> restarts.increment();
            case GovernorEvent.Failed f -> {
                for (MeterRegistry registry : registries) {
                    Counter.builder("governor.supervisor.children.failures")
                            .description("Failed runs of the descendants of a pool supervisor, by exception class")
                            .baseUnit("failures")
                            .tags(poolTags)
                            .tag("exception", f.cause().getClass().getName())
                            .register(registry)
                            .increment();
                }
            }
            default -> {}
        }
    }

    @Override
    public String toString() {
        return "PoolMeters[" + pool + ", restarts=" + restarts.sum() + "]";
    }
}
