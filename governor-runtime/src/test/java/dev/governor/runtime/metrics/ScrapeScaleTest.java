package dev.governor.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.governor.Governor;
import dev.governor.ServiceState;
import dev.governor.Strategy;
import dev.governor.Supervisor;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Measures a scrape of a governor with one big pool ({@code -Dscale.services}, default 100,000),
 * aggregated, and of a smaller tree without aggregation for comparison. Not run by default:
 * {@code mvn -pl governor-runtime -am test -Dtest=ScrapeScaleTest -Dsurefire.excludedGroups= -Dsurefire.failIfNoSpecifiedTests=false}.
 * The figures go to stdout and {@code target/scrape-scale.txt}.
 */
@Tag("scale")
class ScrapeScaleTest {
    private static final int SCRAPES = 15;

    @Test
    void scrapeOfAnAggregatedPool() throws Exception {
        int n = Integer.getInteger("scale.services", 100_000);
        Measure m = measure(n, true);
        report("pool of %,d services, aggregated: %s".formatted(n, m));
        assertThat(m.body).contains("governor_supervisor_children{state=\"running\",supervisor=\"pool\"} " + n + ".0");
        assertThat(m.bytes).as("scrape size independent of the pool's size").isLessThan(64 * 1024);
    }

    @Test
    void scrapeOfTheSameServicesWithoutAggregationForComparison() throws Exception {
        int n = Integer.getInteger("scale.unaggregated", 10_000);
        Measure m = measure(n, false);
        report("pool of %,d services, one series each: %s".formatted(n, m));
        assertThat(m.body).contains("governor_service_up{service=\"pool/w" + (n - 1) + "\"} 1.0");
    }

    private record Measure(long bytes, double medianMillis, double maxMillis, double treeReadMillis, String body) {
        @Override
        public String toString() {
            return "scrape %,d bytes, median %.1f ms, max %.1f ms (of %d scrapes; reading the tree alone %.1f ms)"
                    .formatted(bytes, medianMillis, maxMillis, SCRAPES, treeReadMillis);
        }
    }

    private static Measure measure(int n, boolean aggregate) throws Exception {
        Governor gov = Governor.create();
        try {
            Supervisor pool = Supervisor.create(Strategy.ONE_FOR_ONE).parallelStop();
            for (int i = 0; i < n; i++) {
                pool.add("w" + i, ctx -> ctx.awaitStop());
            }
            gov.add("pool", pool);
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            GovernorMetrics.Builder b = GovernorMetrics.builder(gov);
            if (aggregate) {
                b.aggregateChildrenOf("pool");
            }
            GovernorMetrics metrics = b.build();
            metrics.bindTo(registry);
            gov.start();
            assertThat(gov.awaitReady(Duration.ofMinutes(5)))
                    .as("%d services ready", n)
                    .isTrue();
            // until the meters follow the whole tree (registration happens off the scrape thread)
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (metrics.refresh().count(ServiceState.RUNNING) < n + 1
                    || (!aggregate
                            && registry.find("governor.service.up").gauges().size() < n + 1)) {
                assertThat(System.nanoTime())
                        .as("meters caught up with %d services", n)
                        .isLessThan(deadline);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
            }
            double[] millis = new double[SCRAPES];
            String body = null;
            for (int i = 0; i < SCRAPES; i++) {
                // past the snapshot's lifetime, so every scrape reads the tree afresh
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(GovernorMetrics.SNAPSHOT_TTL_MILLIS + 50));
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                long t0 = System.nanoTime();
                registry.scrape(out, GovernorEndpoint.PROMETHEUS_TEXT);
                millis[i] = (System.nanoTime() - t0) / 1e6;
                body = out.toString(java.nio.charset.StandardCharsets.UTF_8);
            }
            long t0 = System.nanoTime();
            metrics.refresh();
            double treeRead = (System.nanoTime() - t0) / 1e6;
            Arrays.sort(millis);
            return new Measure(
                    body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length,
                    millis[SCRAPES / 2],
                    millis[SCRAPES - 1],
                    treeRead,
                    body);
        } finally {
            gov.shutdown();
        }
    }

    private static void report(String line) throws IOException {
        String full =
                line + " [" + Runtime.getRuntime().availableProcessors() + " CPUs, java " + Runtime.version() + "]";
        System.out.println(full);
        Path file = Path.of("target", "scrape-scale.txt");
        Files.writeString(
                file,
                full + System.lineSeparator(),
                java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
    }
}
