package dev.governor.benchmarks;

import dev.governor.samples.HttpLoad;
import java.util.List;
import java.util.Locale;

/** The table the load benchmarks (reload, upgrade) print: a row per phase of load on the sample's /hello. */
final class LoadTable {
    private LoadTable() {}

    static void header() {
        System.out.println();
        System.out.printf(
                Locale.ROOT, "%-26s %10s %8s %8s %9s %9s%n", "phase", "req/s", "errors", "non-200", "p50 ms", "p99 ms");
    }

    static void row(String phase, HttpLoad.Result r) {
        System.out.printf(
                Locale.ROOT,
                "%-26s %10.0f %8d %8d %9.2f %9.2f%n",
                phase,
                r.requestsPerSecond(),
                r.connectionErrors(),
                r.non200(),
                r.percentileMillis(0.5, s -> true),
                r.percentileMillis(0.99, s -> true));
    }

    /** The sample of failed requests each phase kept, one line each. */
    static void errorSamples(List<HttpLoad.Result> phases) {
        for (HttpLoad.Result r : phases) {
            r.errorSamples().forEach(e -> System.out.println("error sample: " + e));
        }
    }
}
