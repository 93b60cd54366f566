package dev.governor;

/**
 * Receives {@link GovernorEvent}s. Events reach each listener in the order the supervisors
 * produced them, one at a time, on a governor thread, after every lock is released. A listener
 * that throws is logged and kept. A slow listener delays later events, never the tree.
 */
@FunctionalInterface
public interface GovernorListener {
    void onEvent(GovernorEvent event);
}
