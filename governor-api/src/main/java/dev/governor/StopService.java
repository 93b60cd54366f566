package dev.governor;

import java.io.Serial;

/**
 * Thrown anywhere inside {@link Service#run} to end the service for good: it is never restarted,
 * whatever its restart policy. Cheap to throw: it records no stack trace.
 */
public final class StopService extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Stops the service with the reason "stopped by the service". */
    public StopService() {
        this("stopped by the service");
    }

    /** Stops the service; {@code reason} appears in the log and in the {@code StoppedOnPurpose} event. */
    public StopService(String reason) {
        super(reason == null ? "stopped by the service" : reason, null, false, false);
    }

    /** The reason given, never null. */
    public String reason() {
        return getMessage();
    }
}
