package dev.governor;

/**
 * Implemented by a {@link Service} whose {@code run} blocks in calls that ignore cancellation
 * and interrupts (a blocking socket of a library, a foreign call).
 *
 * <p>When the service is stopped, the governor first cancels its {@link ServiceCtx}, then calls
 * {@link #stop()} once, on another thread, then interrupts the service's thread. An exception
 * thrown by {@code stop()} is logged (a warning with its stack trace, like other stop failures)
 * and does not change the outcome of the stop, so closing a socket needs no try/catch:
 *
 * <pre>{@code
 * public void stop() throws IOException {
 *     server.close();   // run() blocked in accept(); it now throws, and the run counts as stopped
 * }
 * }</pre>
 */
public interface Stoppable {
    /**
     * Makes the current {@code run} return soon, e.g. by closing the socket it blocks on.
     *
     * @throws Exception any failure; logged, and the stop goes on as if it had succeeded
     */
    void stop() throws Exception;
}
