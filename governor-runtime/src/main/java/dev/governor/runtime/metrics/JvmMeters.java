package dev.governor.runtime.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JVM's meters as {@code /metrics} serves them: Micrometer's binders for memory, GC, threads,
 * classes, CPU, uptime and file descriptors, and virtual threads (the scheduler's own counts, see
 * {@link VirtualThreadSchedulerMetrics}), adjusted so that {@code promtool check metrics} finds nothing to lint:
 * {@code system.cpu.count} becomes {@code system.cpus} (a gauge may not end in {@code _count}), and
 * {@code process.cpu.time} in nanoseconds ({@code _ns}: an abbreviated unit) is replaced by
 * Prometheus' standard {@code process_cpu_seconds_total}.
 *
 * <p>Not included: {@code micrometer-java21}'s {@code VirtualThreadMetrics} (pinning from JFR). Its
 * JFR event stream runs on a non-daemon thread that keeps the JVM alive after the governor has
 * stopped, and on JDK 25 {@code synchronized} no longer pins.
 */
final class JvmMeters {
    private static final Logger LOG = LoggerFactory.getLogger(JvmMeters.class);

    private JvmMeters() {}

    static final MeterFilter PROMETHEUS_LINT = new MeterFilter() {
        @Override
        public MeterFilterReply accept(Meter.Id id) {
            return id.getName().equals("process.cpu.time") && "ns".equals(id.getBaseUnit())
                    ? MeterFilterReply.DENY
                    : MeterFilterReply.NEUTRAL;
        }

        @Override
        public Meter.Id map(Meter.Id id) {
            return id.getName().equals("system.cpu.count")
                    ? id.withName("system.cpus").withBaseUnit("cpus")
                    : id;
        }

        @Override
        public String toString() {
            return "JvmMeters.PROMETHEUS_LINT";
        }
    };

    static void bindTo(MeterRegistry registry) {
        registry.config().meterFilter(PROMETHEUS_LINT);
        List<MeterBinder> binders = List.of(
                new JvmMemoryMetrics(),
                new JvmGcMetrics(),
                new JvmThreadMetrics(),
                new ClassLoaderMetrics(),
                new JvmInfoMetrics(),
                new ProcessorMetrics(),
                new UptimeMetrics(),
                new FileDescriptorMetrics(),
                new VirtualThreadSchedulerMetrics(),
                JvmMeters::processCpu);
        for (MeterBinder binder : binders) {
            try {
                binder.bindTo(registry);
            } catch (RuntimeException | LinkageError e) {
                LOG.warn(
                        "JVM meters {} unavailable; serving without them",
                        binder.getClass().getSimpleName(),
                        e);
            }
        }
    }

    private static void processCpu(MeterRegistry registry) {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                && os.getProcessCpuTime() >= 0) {
            FunctionCounter.builder("process.cpu", os, o -> o.getProcessCpuTime() / 1e9)
                    .description("CPU time used by the JVM process")
                    .baseUnit("seconds")
                    .register(registry);
        }
    }
}
