package dev.governor.runtime.internal;

import dev.governor.runtime.GovernorHooks;

/** Placeholder until the core lands (same commit series). */
public abstract class GovernorImpl implements dev.governor.Governor {
    public abstract GovernorHooks hooks();
}
