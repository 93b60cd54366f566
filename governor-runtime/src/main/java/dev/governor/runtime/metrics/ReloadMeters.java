package dev.governor.runtime.metrics;

import dev.governor.Governor;
import dev.governor.runtime.listen.GovernorListeners;
import dev.governor.runtime.listen.ListenerInfo;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

/**
 * The meters of the sockets a governor owns: {@code governor.listener.info} (1 per listener, tags
 * {@code name}, {@code address}, {@code source}), registered as each listener is settled.
 */
final class ReloadMeters {
    private ReloadMeters() {}

    static void bind(Governor governor, Tags tags, MeterRegistry registry) {
        if (!(governor.listeners() instanceof GovernorListeners listeners)) {
            return;
        }
        listeners.onSettled(info -> listener(info, tags, registry));
        listeners.info().forEach(info -> listener(info, tags, registry));
    }

    private static void listener(ListenerInfo info, Tags tags, MeterRegistry registry) {
        Gauge.builder("governor.listener.info", () -> 1)
                .description("A socket the governor owns for the life of the process; 1 per listener")
                .tags(tags).tag("name", info.name()).tag("address", info.address()).tag("source", info.source())
                .register(registry);
    }
}
