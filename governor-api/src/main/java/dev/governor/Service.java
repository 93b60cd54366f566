package dev.governor;

/**
 * A unit of work the governor runs, supervises and stops. Each run happens on a fresh virtual
 * thread named after the service's path, with a fresh {@link ServiceCtx}.
 *
 * <p>How {@code run} ends decides what happens next:
 *
 * <ul>
 *   <li>returns normally: <em>completed</em>; restarted only under {@link RestartPolicy#always}.
 *   <li>throws {@link StopService} (from anywhere in the call stack): <em>stopped on purpose</em>;
 *       never restarted, whatever the policy.
 *   <li>throws any other exception or a non-fatal {@link Error}: <em>failed</em>; logged with its
 *       stack trace, counted, restarted under {@code always} or {@code onFailure}.
 *   <li>throws a {@link VirtualMachineError}: <em>fatal</em>; never restarted, and by default the
 *       governor begins an ordered shutdown with a non-zero exit code.
 * </ul>
 *
 * <p>A run that ends after its stop was requested is simply <em>stopped</em>, however it ended:
 * an exception thrown once the stop was requested (a closed socket's {@code IOException}, an
 * {@code InterruptedException}) is neither a failure nor logged as one, so a run needs no
 * {@code if (ctx.stopping()) return;} guard around its blocking calls.
 * A service whose {@code run} blocks in calls that ignore interrupts should also implement
 * {@link Stoppable}.
 */
@FunctionalInterface
public interface Service {
    /**
     * Runs the service until it is done or {@code ctx} is cancelled.
     *
     * @param ctx this run's context: name, cancellation, readiness, logger
     * @throws Exception a failure, handled by the restart policy
     */
    void run(ServiceCtx ctx) throws Exception;
}
