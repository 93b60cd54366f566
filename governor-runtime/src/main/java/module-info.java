/**
 * The implementation behind {@link dev.governor.Governor#create()}, and the extensions an application
 * may use directly: the metrics endpoint and status page ({@code dev.governor.runtime.metrics}),
 * systemd integration ({@code dev.governor.runtime.systemd}), daemon plumbing and the control socket
 * ({@code dev.governor.runtime.daemon}), and the hooks of {@code dev.governor.runtime}.
 *
 * <p>Not exported, so not reachable from a named module: {@code dev.governor.runtime.internal} (the
 * supervision tree), {@code dev.governor.runtime.handover} (the fd handover wire between an old and
 * a new process), {@code dev.governor.runtime.listen} and {@code dev.governor.runtime.upgrade} (what
 * stands behind {@link dev.governor.Governor#listeners()} and {@link dev.governor.Governor#upgrade}).
 *
 * <p>Native access: on the module path, run with {@code --enable-native-access=dev.governor.runtime}
 * (and, for socket activation and inherited listeners,
 * {@code --add-opens java.base/sun.nio.ch=dev.governor.runtime}); on the class path, with
 * {@code ALL-UNNAMED} in both places.
 */
// micrometer ships no module descriptors (automatic modules): the one warning of -Xlint:all a
// module declaration cannot avoid while it needs them, silenced here rather than for the whole build
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.governor.runtime {
    requires transitive dev.governor;
    // GovernorMetrics is a MeterBinder and GovernorEndpoint hands out its PrometheusMeterRegistry
    requires transitive micrometer.core;
    requires transitive micrometer.registry.prometheus;
    requires jdk.management; // VirtualThreadSchedulerMXBean
    requires jdk.net; // SO_PEERCRED of the control socket
    requires jdk.unsupported; // sun.misc.Signal: INT, TERM, HUP, USR1
    // native calls go through the JDK's FFM API (internal.os.Libc): no native library to require

    exports dev.governor.runtime;
    exports dev.governor.runtime.daemon;
    exports dev.governor.runtime.metrics;
    exports dev.governor.runtime.systemd;

    provides dev.governor.spi.GovernorProvider with
            dev.governor.runtime.internal.GovernorProviderImpl;
    provides dev.governor.runtime.GovernorExtension with
            dev.governor.runtime.systemd.SystemdExtension,
            dev.governor.runtime.upgrade.Takeover;

    uses dev.governor.runtime.GovernorExtension;
}
