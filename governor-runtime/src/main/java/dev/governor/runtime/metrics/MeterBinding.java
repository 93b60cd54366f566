package dev.governor.runtime.metrics;

import dev.governor.Governor;
import dev.governor.runtime.GovernorHooks;
import dev.governor.runtime.LifecycleListener;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The meters of a {@link GovernorEndpoint}, made off the path to readiness. Micrometer's registry
 * and the JVM's meters load ~1,000 classes on a cold JVM (a few hundred ms on a busy machine):
 * made while the governor starts, they would compete with it for the CPU. So they are made on a
 * background thread once the governor is first ready, or when something asks for them first (a
 * scrape, {@link GovernorEndpoint#registry()}), or {@value #AT_THE_LATEST_MILLIS} ms after the
 * endpoint was built at the latest. The governor's events are counted from the endpoint's
 * {@code build()} on all the same ({@link GovernorMetrics#listenAhead()}); the JVM's GC meters
 * count the pauses from their binding on.
 */
final class MeterBinding {
    private static final Logger LOG = LoggerFactory.getLogger(MeterBinding.class);
    static final long AT_THE_LATEST_MILLIS = 1_000;

    private final CompletableFuture<PrometheusMeterRegistry> bound = new CompletableFuture<>();
    private final CountDownLatch wanted = new CountDownLatch(1);

    private MeterBinding() {}

    /**
     * Starts the binding of {@code metrics} (and the JVM's meters when {@code jvm}) to {@code given}, or
     * to a new Prometheus registry when null.
     */
    static MeterBinding start(
            Governor governor,
            GovernorHooks hooks,
            GovernorMetrics metrics,
            PrometheusMeterRegistry given,
            boolean jvm) {
        MeterBinding binding = new MeterBinding();
        metrics.listenAhead();
        hooks.addLifecycleListener(new LifecycleListener() {
            @Override
            public void ready() {
                binding.wanted.countDown();
            }

            @Override
            public String toString() {
                return "the endpoint's meters, bound once ready";
            }
        });
        Thread.ofPlatform().daemon().name("governor-metrics-bind").start(() -> {
            try {
                binding.wanted.await(AT_THE_LATEST_MILLIS, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // nobody interrupts this thread: bind now
            }
            try {
                PrometheusMeterRegistry r =
                        given != null ? given : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                if (jvm) {
                    JvmMeters.bindTo(r);
                }
                metrics.bindTo(r);
                binding.bound.complete(r);
            } catch (RuntimeException | Error e) {
                metrics.dropEarly();
                binding.bound.completeExceptionally(e);
                LOG.warn("cannot make the meters of {}: /metrics answers 503", governor, e);
            }
        });
        return binding;
    }

    /**
     * The registry with every meter bound, waiting for the binding (and asking for it now) if need be.
     *
     * @throws CompletionException if the registry or the meters could not be made
     */
    PrometheusMeterRegistry registry() {
        wanted.countDown();
        return bound.join();
    }

    @Override
    public String toString() {
        return "MeterBinding[" + (bound.isDone() ? "bound" : wanted.getCount() == 0 ? "binding" : "waiting") + "]";
    }
}
