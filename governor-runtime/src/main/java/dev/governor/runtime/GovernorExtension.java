package dev.governor.runtime;

/**
 * Something the runtime plugs into every governor by itself (systemd notification, for one),
 * found with {@link java.util.ServiceLoader} in
 * {@code META-INF/services/dev.governor.runtime.GovernorExtension}. {@link #install} is called once
 * per governor, from {@code start()}, before the first child starts. An extension that throws is
 * logged and skipped: it never stops the governor from starting.
 */
public interface GovernorExtension {
    /** Attaches to one governor; typically registers a {@link LifecycleListener} when it has work to do. */
    void install(GovernorHooks hooks) throws Exception;
}
