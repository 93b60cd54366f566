package dev.governor.runtime;

import dev.governor.Governor;
import dev.governor.runtime.internal.GovernorImpl;

/** Entry points of the runtime beyond {@link Governor#create()}. */
public final class GovernorRuntime {
    private GovernorRuntime() {}

    /**
     * The runtime hooks of {@code governor}.
     *
     * @throws IllegalArgumentException if {@code governor} was not made by this runtime
     */
    public static GovernorHooks hooks(Governor governor) {
        if (governor instanceof GovernorImpl impl) {
            return impl.hooks();
        }
        throw new IllegalArgumentException(
                "governor " + governor + " was not created by dev.governor:governor-runtime");
    }
}
