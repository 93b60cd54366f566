package dev.governor.examples;

import dev.governor.Governor;
import dev.governor.GovernorOptions;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import dev.governor.runtime.metrics.GovernorEndpoint;
import java.time.Duration;

/** docs/observability.md, the opening example. */
final class ObservabilityMain {
    public static void main(String[] args) {
        Supervisor workers = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop(); // a stand-in pool
        Governor gov = Governor.create(GovernorOptions.builder()
                .drainDelay(Duration.ofSeconds(5)) // /readyz turns 503 this long before services stop
                .build());
        GovernorEndpoint.builder(gov)
                .port(9464) // default 9464; 0 picks a free port (endpoint.port())
                .host("127.0.0.1") // default loopback; "0.0.0.0" in a pod
                .aggregateChildrenOf("workers") // a pool: counted per state, not one series per worker
                .build() // binds the port now: a port in use fails here, in main
                .addTo(gov, "http"); // add it first: it stops last, the probes answer throughout
        gov.add("workers", workers);
        System.exit(gov.catchSignals().start().waitForShutdown().exitCode());
    }
}
