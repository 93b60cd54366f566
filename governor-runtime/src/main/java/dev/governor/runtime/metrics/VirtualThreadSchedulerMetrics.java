package dev.governor.runtime.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.lang.management.ManagementFactory;
import jdk.management.VirtualThreadSchedulerMXBean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler of virtual threads (JDK 24+, {@link VirtualThreadSchedulerMXBean}): how many
 * virtual threads are mounted on a carrier and how many wait for one. A queue that keeps growing
 * means carriers are held (pinned, or busy with CPU work). Cheap: four reads of the scheduler's
 * own counters, no JFR.
 */
public final class VirtualThreadSchedulerMetrics implements MeterBinder {
    private static final Logger LOG = LoggerFactory.getLogger(VirtualThreadSchedulerMetrics.class);
    private final Tags tags;

    public VirtualThreadSchedulerMetrics() {
        this(Tags.empty());
    }

    public VirtualThreadSchedulerMetrics(Iterable<Tag> tags) {
        this.tags = Tags.of(tags);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        VirtualThreadSchedulerMXBean bean;
        try {
            bean = ManagementFactory.getPlatformMXBean(VirtualThreadSchedulerMXBean.class);
        } catch (RuntimeException | LinkageError e) {
            LOG.debug("no virtual thread scheduler MXBean in this JVM; no jvm.threads.virtual.* gauges", e);
            return;
        }
        if (bean == null) {
            return;
        }
        Gauge.builder("jvm.threads.virtual.mounted", bean, VirtualThreadSchedulerMXBean::getMountedVirtualThreadCount)
                .description("Virtual threads currently mounted on a carrier thread")
                .baseUnit("threads")
                .tags(tags)
                .strongReference(true)
                .register(registry);
        Gauge.builder("jvm.threads.virtual.queued", bean, VirtualThreadSchedulerMXBean::getQueuedVirtualThreadCount)
                .description("Virtual threads ready to run, waiting for a carrier thread")
                .baseUnit("threads")
                .tags(tags)
                .strongReference(true)
                .register(registry);
        Gauge.builder("jvm.threads.virtual.carriers", bean, VirtualThreadSchedulerMXBean::getPoolSize)
                .description("Carrier (platform) threads of the virtual thread scheduler, busy or idle")
                .baseUnit("threads")
                .tags(tags)
                .strongReference(true)
                .register(registry);
        Gauge.builder("jvm.threads.virtual.parallelism", bean, VirtualThreadSchedulerMXBean::getParallelism)
                .description("Target number of carrier threads running virtual threads at once")
                .baseUnit("threads")
                .tags(tags)
                .strongReference(true)
                .register(registry);
    }

    @Override
    public String toString() {
        return "VirtualThreadSchedulerMetrics" + tags;
    }
}
