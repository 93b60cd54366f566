package dev.governor;

/**
 * Implemented by a {@link Service} whose {@code run} blocks in calls that ignore cancellation
 * and interrupts (a blocking socket of a library, a foreign call).
 *
 * <p>When the service is stopped, the governor first cancels its {@link ServiceCtx}, then calls
 * {@link #stop()} once, on another thread, then interrupts the service's thread. An exception
 * thrown by {@code stop()} is logged and does not change the outcome of the stop.
 */
public interface Stoppable {
    /** Makes the current {@code run} return soon, e.g. by closing the socket it blocks on. */
    void stop();
}
