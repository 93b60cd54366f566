package dev.governor.runtime.internal;

import dev.governor.RestartPolicy;
import java.time.Duration;
import java.util.List;

/**
 * What a child may be configured with. A child configured with none of it (every service of a
 * pool, typically) shares {@link #DEFAULTS}, which is never written, until its first setting.
 */
final class ChildConfig {
    static final ChildConfig DEFAULTS = new ChildConfig();

    volatile RestartPolicy policy; // null: the parent's default
    volatile Duration shutdownTimeout;
    volatile List<String> dependsOn = List.of();
    volatile boolean readyOnStart = true;
    volatile Duration drainTimeout = Duration.ZERO;
    volatile boolean excludedFromReadiness;
    volatile boolean readinessWaived; // not copied: see Child.waiveReadiness
    volatile boolean significant;

    ChildConfig copy() {
        ChildConfig c = new ChildConfig();
        c.policy = policy;
        c.shutdownTimeout = shutdownTimeout;
        c.dependsOn = dependsOn;
        c.readyOnStart = readyOnStart;
        c.drainTimeout = drainTimeout;
        c.excludedFromReadiness = excludedFromReadiness;
        c.significant = significant;
        return c;
    }
}
