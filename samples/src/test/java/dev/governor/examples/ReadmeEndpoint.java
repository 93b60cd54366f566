package dev.governor.examples;

import dev.governor.Governor;
import dev.governor.runtime.metrics.GovernorEndpoint;

/** README.md, "Metrics, probes and the status page". */
final class ReadmeEndpoint {
    static void addTo(Governor gov) {
        GovernorEndpoint.builder(gov)
                .port(9464) // loopback by default; 0 picks a free port
                .aggregateChildrenOf("workers") // a pool: counted per state, not one series per worker
                .build() // binds now: a port in use fails here, naming the address
                .addTo(gov, "http"); // a governed service; add it first so it stops last
    }
}
