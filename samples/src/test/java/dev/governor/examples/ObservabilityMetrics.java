package dev.governor.examples;

import dev.governor.Governor;
import dev.governor.runtime.metrics.GovernorMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/** docs/observability.md, binding the metrics to a registry of your own. */
final class ObservabilityMetrics {
    static void bind(Governor gov, MeterRegistry registry) {
        GovernorMetrics.builder(gov)
                .aggregateChildrenOf("workers")
                .tags(Tags.of("app", "ingest"))
                .build()
                .bindTo(registry);
    }
}
