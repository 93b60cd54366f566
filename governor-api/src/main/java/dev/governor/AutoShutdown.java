package dev.governor;

/**
 * Whether a nested supervisor ends by itself when its {@link ServiceConfig#significant significant}
 * children end; Erlang/OTP's {@code auto_shutdown}. Only a child's own end counts (it completed,
 * threw {@link StopService}, or failed with no restart to follow); a child stopped by its
 * supervisor ({@code stopChild}, a sibling's restart, shutdown) never triggers it. A supervisor
 * that shuts itself down this way completes: its parent sees a {@code Completed} run and applies
 * the policy it was added with. The root has its own natural end (see {@link Governor}) and
 * ignores this setting.
 */
public enum AutoShutdown {
    /** The default: the supervisor stays up when its children end, until it is stopped. */
    NEVER,
    /** The supervisor stops its other children and completes once any significant child has ended by itself. */
    ANY_SIGNIFICANT,
    /** The supervisor stops its other children and completes once every significant child has ended by itself. */
    ALL_SIGNIFICANT
}
