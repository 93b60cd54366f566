package dev.governor;

/**
 * The lifecycle of one node of the tree (a service or a supervisor), as {@link ServiceInfo#state()}
 * reports it.
 *
 * <p>States in transition order:
 *
 * <pre>
 *   NEW ──start──▶ STARTING ──run begins──▶ RUNNING ──run ends──▶ RESTARTING ──delay──▶ STARTING …
 *                                            │                      │
 *                                            └──stop requested──▶ STOPPING ──▶ STOPPED
 *                                                                 run ends for good ──▶ STOPPED | FAILED
 * </pre>
 *
 * <ul>
 *   <li>{@link #NEW}: added, not started yet.
 *   <li>{@link #STARTING}: its supervisor has decided to start it, and it waits for the siblings it
 *       {@linkplain ServiceConfig#dependsOn depends on} to be running and ready. A child with
 *       nothing to wait for goes from NEW (or RESTARTING) to RUNNING in one step of its supervisor,
 *       so it is never seen STARTING. Stopping it, or a shutdown, makes it STOPPED without a run.
 *   <li>{@link #RUNNING}: {@code run} is executing. Readiness is separate: see {@link ServiceInfo#ready()}.
 *   <li>{@link #RESTARTING}: a run ended and the restart policy scheduled another after a delay.
 *       Shutdown cancels the delay and the node goes straight to {@link #STOPPED}.
 *   <li>{@link #STOPPING}: the stop sequence runs: context cancelled, {@link Stoppable#stop()} called,
 *       thread interrupted, waiting for {@code run} to return within the shutdown timeout.
 * </ul>
 *
 * <p>{@link #STOPPED} and {@link #FAILED} are terminal for the current incarnation: nothing runs
 * until the node is started again by its supervisor ({@code restartChild}, a supervisor restart) or
 * removed. {@code FAILED} means the last run failed and the policy did not (or could not, because
 * of a limit) restart it, or the run was fatal. A node that completed, was stopped on purpose or
 * was stopped by its supervisor is {@code STOPPED}.
 */
public enum ServiceState {
    /** Added, never started. */
    NEW,
    /** Its start is decided and waits for the siblings it depends on to be ready. */
    STARTING,
    /** {@code run(ctx)} is executing. */
    RUNNING,
    /** Waiting out a restart delay; cancelled by shutdown. */
    RESTARTING,
    /** The stop sequence is under way. */
    STOPPING,
    /** Terminal: ended without a failure that is held against it. */
    STOPPED,
    /** Terminal: ended by a failure that will not be restarted, or by exceeding a restart limit. */
    FAILED;

    /** True for {@link #STOPPED} and {@link #FAILED}. */
    public boolean isTerminal() {
        return this == STOPPED || this == FAILED;
    }
}
