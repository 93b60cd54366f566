package dev.governor;

import java.time.Duration;
import java.time.Instant;

/**
 * Something that happened to a node of the tree. {@link #service()} is the node's path; events
 * about the governor as a whole (its readiness, a shutdown request) use the root's path {@code ""}.
 *
 * <p>Per service, a run produces {@code Started}, perhaps {@code Ready}, then exactly one of
 * {@code Completed}, {@code StoppedOnPurpose}, {@code Failed} or {@code Stopped} (a run that ends
 * after its stop was requested is {@code Stopped}, however it ended), or {@code StopTimedOut} when
 * it would not end in time. {@code Restarting} precedes the next {@code Started};
 * {@code Escalated} names a supervisor that gave up because a restart limit was exceeded (its own
 * intensity or a child's {@link RestartPolicy#withLimit}); the child whose restart tipped it is
 * {@link Escalated#child()}.
 */
public sealed interface GovernorEvent {
    /** Path of the node concerned; {@code ""} for the governor itself. */
    String service();

    /** When it happened, on the governor's clock. */
    Instant at();

    /** A run began; {@code attempt} as in {@link ServiceCtx#attempt()}. */
    record Started(String service, Instant at, int attempt) implements GovernorEvent {}

    /** The node became ready; for {@code ""}, the whole tree is ready. */
    record Ready(String service, Instant at) implements GovernorEvent {}

    /** A run returned normally without being asked to stop. */
    record Completed(String service, Instant at) implements GovernorEvent {}

    /** A run threw {@link StopService}; it will not be restarted. */
    record StoppedOnPurpose(String service, Instant at, String reason) implements GovernorEvent {}

    /** A run failed with {@code cause} (fatal when it is a {@link VirtualMachineError}). */
    record Failed(String service, Instant at, Throwable cause) implements GovernorEvent {}

    /** The node will be started again after {@code delay}. */
    record Restarting(String service, Instant at, Duration delay) implements GovernorEvent {}

    /**
     * The supervisor {@code service} gives up: restarting {@code child} would make more than the
     * allowed {@code restarts} within {@code window} (the supervisor's intensity, or the child's
     * own limit). The supervisor then stops its children and fails with an
     * {@link EscalationException}; at the root, the governor shuts down with the escalation code.
     */
    record Escalated(String service, Instant at, int restarts, Duration window, String child) implements GovernorEvent {
        /** Without the child, for code written against the four-component form ({@code child} is {@code ""}). */
        public Escalated(String service, Instant at, int restarts, Duration window) {
            this(service, at, restarts, window, "");
        }
    }

    /** A run ended after its stop was requested, {@code stopTime} after the request. */
    record Stopped(String service, Instant at, Duration stopTime) implements GovernorEvent {}

    /** A run was still going {@code timeout} after its stop was requested: reported unstopped. */
    record StopTimedOut(String service, Instant at, Duration timeout) implements GovernorEvent {}

    /** Reloadable node {@code service} now serves generation {@code generation} (the previous one is draining). */
    record Reloaded(String service, Instant at, int generation) implements GovernorEvent {}

    /**
     * Generation {@code generation} of reloadable node {@code service} was refused: its builder threw,
     * it failed, it was not ready in time, or shutdown began. The current generation keeps serving.
     */
    record ReloadRefused(String service, Instant at, int generation, Throwable cause) implements GovernorEvent {}

    /** Shutdown of the governor was requested, for {@code reason} (a signal, a call, a fatal error). */
    record ShutdownRequested(String service, Instant at, String reason) implements GovernorEvent {}

    /** An upgrade started process {@code newPid}, which is now fetching this process's listeners. */
    record UpgradeStarted(String service, Instant at, long newPid) implements GovernorEvent {}

    /**
     * The upgrade to process {@code newPid} (-1 if none was started) failed for {@code reason}: it was
     * refused, or the new process exited, refused the sockets or was not ready in time (it was killed).
     * This process keeps serving. {@code reason} ends with the new process's last lines of output.
     */
    record UpgradeFailed(String service, Instant at, long newPid, String reason) implements GovernorEvent {}
}
